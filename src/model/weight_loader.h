// Binds declared tensors to a checkpoint's mapped data, checking names, shapes and dtypes.
#pragma once

#include "formats/checkpoint.h"
#include "model/tensor_decl.h"

namespace mariana {

// Returns a visitor that loads each declared tensor from `checkpoint`: matrices become
// views of the mapped data (FP8 ones with their `weight_scale_inv` block scales), vectors
// are converted to float32. Throws Error naming the tensor on any mismatch.
TensorVisitor tensor_loader(const Checkpoint& checkpoint);

}  // namespace mariana
