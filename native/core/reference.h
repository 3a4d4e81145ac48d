// Plain loops straight from the definitions, in double precision: the yardstick every
// kernel set is tested against (native/test/kernel_test.cc). Never used on the fast path.
#pragma once
#include "descriptors.h"

namespace convnd {
namespace reference {

void convForward(const ConvDesc& d, const float* x, const float* w, const float* b, float* y);
void convBackwardData(const ConvDesc& d, const float* dy, const float* w, const float* bias, float* dx);
void convBackwardWeight(const ConvDesc& d, const float* dy, const float* x, float* dw);
void poolForward(const PoolDesc& d, const float* x, float* y);
void poolBackward(const PoolDesc& d, const float* dy, const float* x, float* dx);

}  // namespace reference
}  // namespace convnd
