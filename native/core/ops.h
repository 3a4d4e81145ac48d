// The operations the binding exposes. Descriptors are checked by the caller with
// checkConvDesc / checkPoolDesc; buffers hold exactly the lengths the descriptor implies.
#pragma once
#include "descriptors.h"
#include "kernel_table.h"

namespace convnd {

// y = conv(x, w) + b (b may be null).
void convForward(const KernelTable& k, const ConvDesc& d, const float* x, const float* w,
                 const float* b, float* y);

// dx = d/dx sum(conv(x, w) * dy); with a bias this is also the transposed convolution of dy.
void convBackwardData(const KernelTable& k, const ConvDesc& d, const float* dy, const float* w,
                      const float* bias, float* dx);

// dw = d/dw sum(conv(x, w) * dy), summed over the batch.
void convBackwardWeight(const KernelTable& k, const ConvDesc& d, const float* dy, const float* x,
                        float* dw);

// db[k] = sum over batch and space of dy[:, k].
void convBackwardBias(const ConvDesc& d, const float* dy, float* db);

void poolForward(const KernelTable& k, const PoolDesc& d, const float* x, float* y);
void poolBackward(const KernelTable& k, const PoolDesc& d, const float* dy, const float* x,
                  float* dx);

}  // namespace convnd
