// Binds declared tensors to their data in a tensor source (a checkpoint's mapped files, or
// tensors in memory), checking names, shapes and dtypes.
#pragma once

#include "formats/tensor_source.h"
#include "model/tensor_decl.h"

namespace mariana {

// Returns a visitor that loads each declared tensor from `source`: matrices become views of
// its data (FP8 ones with their `weight_scale_inv` block scales), vectors are converted to
// float32 copies. Throws Error naming the tensor on any mismatch. `source` must outlive the
// visitor and the matrices it binds.
TensorVisitor tensor_loader(const TensorSource& source);

}  // namespace mariana
