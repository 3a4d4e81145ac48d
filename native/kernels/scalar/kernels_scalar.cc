// Portable kernels for any CPU, built with the compiler's baseline flags only (no -mavx):
// a 4-float "register" of plain arrays that the compiler may map onto SSE2 or nothing at all.
#include "../generic/tile_kernels.h"

namespace {

struct Scalar {
  struct reg { float v[4]; };
  struct mask { bool v[4]; };
  static constexpr int lanes = 4;
  static reg zero() { return reg{{0.0f, 0.0f, 0.0f, 0.0f}}; }
  static reg load(const float* p) { return reg{{p[0], p[1], p[2], p[3]}}; }
  static reg loadEven(const float* p) { return reg{{p[0], p[2], p[4], p[6]}}; }
  static void loadEvenOdd(const float* p, reg& even, reg& odd) {
    even = loadEven(p);
    odd = loadEven(p + 1);
  }
  static reg loadPartial(const float* p, int n) {
    reg r = zero();
    for (int i = 0; i < n; ++i) r.v[i] = p[i];
    return r;
  }
  static void store(float* p, reg r) { for (int i = 0; i < 4; ++i) p[i] = r.v[i]; }
  static reg set1(float f) { return reg{{f, f, f, f}}; }
  static reg fmadd(reg a, reg b, reg c) {
    for (int i = 0; i < 4; ++i) c.v[i] += a.v[i] * b.v[i];
    return c;
  }
  static reg add(reg a, reg b) {
    for (int i = 0; i < 4; ++i) a.v[i] += b.v[i];
    return a;
  }
  static reg mul(reg a, reg b) {
    for (int i = 0; i < 4; ++i) a.v[i] *= b.v[i];
    return a;
  }
  template <bool IsMax>
  static mask beats(reg v, reg acc) {
    mask m;
    for (int i = 0; i < 4; ++i) {
      float x = v.v[i], y = acc.v[i];
      bool better = IsMax ? x > y : x < y;
      m.v[i] = better || (x != x && y == y);
    }
    return m;
  }
  template <bool IsMax>
  static reg extreme(reg acc, reg v) {
    for (int i = 0; i < 4; ++i) {
      float a = acc.v[i], x = v.v[i];
      if (a != a) continue;  // a NaN stays
      acc.v[i] = x != x ? x : (IsMax ? (x > a ? x : a) : (x < a ? x : a));
    }
    return acc;
  }
  static reg blend(mask m, reg ifTrue, reg ifFalse) {
    for (int i = 0; i < 4; ++i) ifFalse.v[i] = m.v[i] ? ifTrue.v[i] : ifFalse.v[i];
    return ifFalse;
  }
};



}  // namespace

// Built on first use, never at load time: the table's construction is compiled with this
// file's flags, and a CPU without them must never run it (it is called only after cpuid).
const convnd::KernelTable& convnd::scalarKernels() {
  static const convnd::KernelTable table = convnd::tiles::makeKernelTable<Scalar, 4, 2, 4, 4, 2, 4, 4, 2>("scalar", nullptr);
  return table;
}
