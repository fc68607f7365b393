#include "cli/model_loading.h"

#include "core/error.h"

namespace mariana {

void add_compute_option(CLI::App& command, std::string& compute)
{
    command
        .add_option("--compute", compute,
                    "Projections' arithmetic: f32 (exact, the reference's numerics), bf16 (operands rounded to "
                    "bfloat16, summed in float32; needs AVX-512 BF16), or auto (bf16 for BF16/FP8 weights where "
                    "the CPU has it)")
        ->check(CLI::IsMember({"auto", "f32", "bf16"}));
}

std::unique_ptr<Model> load_model_with(const std::string& dir, const std::string& compute)
{
    if (compute == "bf16" && !gemm_bf16_available())
        fail("--compute bf16 needs a CPU with AVX-512 BF16, which this one lacks; use --compute f32");
    std::unique_ptr<Model> model = load_model(dir);
    const bool low_precision_weights =
        model->projection_dtype() == DType::bf16 || model->projection_dtype() == DType::f8_e4m3;
    const bool bf16 = compute == "bf16" || (compute == "auto" && low_precision_weights && gemm_bf16_available());
    model->set_compute(bf16 ? GemmPrecision::bf16 : GemmPrecision::f32);
    return model;
}

}  // namespace mariana
