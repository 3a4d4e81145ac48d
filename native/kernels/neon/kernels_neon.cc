// NEON kernels for arm64 (4 floats a register, 32 registers). NEON is part of every arm64 CPU.
#include <arm_neon.h>
#include "../generic/tile_kernels.h"

namespace {

struct Neon {
  using reg = float32x4_t;
  using mask = uint32x4_t;
  static constexpr int lanes = 4;
  static reg zero() { return vdupq_n_f32(0.0f); }
  static reg load(const float* p) { return vld1q_f32(p); }
  // p[0], p[2], p[4], p[6]: vld2q de-interleaves as it loads.
  static reg loadEven(const float* p) { return vld2q_f32(p).val[0]; }
  static void loadEvenOdd(const float* p, reg& even, reg& odd) {
    const float32x4x2_t both = vld2q_f32(p);
    even = both.val[0];
    odd = both.val[1];
  }
  // p[0], ..., p[n - 1] and zeros (0 < n < 4), reading nothing past p[n - 1].
  static reg loadPartial(const float* p, int n) {
    reg r = vdupq_n_f32(0.0f);
    r = vsetq_lane_f32(p[0], r, 0);
    if (n > 1) r = vsetq_lane_f32(p[1], r, 1);
    if (n > 2) r = vsetq_lane_f32(p[2], r, 2);
    return r;
  }
  static void store(float* p, reg r) { vst1q_f32(p, r); }
  static reg set1(float f) { return vdupq_n_f32(f); }
  static reg fmadd(reg a, reg b, reg c) { return vfmaq_f32(c, a, b); }
  static reg add(reg a, reg b) { return vaddq_f32(a, b); }
  static reg mul(reg a, reg b) { return vmulq_f32(a, b); }
  template <bool IsMax>
  static mask beats(reg v, reg acc) {
    mask better = IsMax ? vcgtq_f32(v, acc) : vcltq_f32(v, acc);
    mask vIsNan = vmvnq_u32(vceqq_f32(v, v));
    mask accIsNum = vceqq_f32(acc, acc);
    return vorrq_u32(better, vandq_u32(vIsNan, accIsNum));
  }
  static reg blend(mask m, reg ifTrue, reg ifFalse) { return vbslq_f32(m, ifTrue, ifFalse); }
  // vmaxq/vminq return NaN when either input is NaN.
  template <bool IsMax>
  static reg extreme(reg acc, reg v) { return IsMax ? vmaxq_f32(acc, v) : vminq_f32(acc, v); }
};

// Stride-2 rows: vld2q de-interleaves as it loads.
void copyStride2(float* dst, const float* src, int64_t n) {
  int64_t v = 0;
  for (; v + 5 <= n; v += 4) vst1q_f32(dst + v, Neon::loadEven(src + 2 * v));  // reads src[2v, 2v + 8) < 2n - 1
  for (; v < n; ++v) dst[v] = src[2 * v];
}


}  // namespace

// 8x12 GEMM tile: 24 accumulators + 3 inputs + 1 broadcast of the 32 q registers.
// The one-channel (narrow) tile has 8 accumulators, enough chains to hide FMA latency.
// Built on first use, never at load time: the table's construction is compiled with this
// file's flags, and a CPU without them must never run it (it is called only after cpuid).
const convnd::KernelTable& convnd::neonKernels() {
  static const convnd::KernelTable table = convnd::tiles::makeKernelTable<Neon, 8, 3, 8, 8, 3, 4, 4, 6>("neon", &copyStride2);
  return table;
}
