#include "isa_dispatch.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace convnd {

namespace {

#if defined(__x86_64__) || defined(_M_X64)
struct CpuidRegs { unsigned a = 0, b = 0, c = 0, d = 0; };

CpuidRegs cpuid(unsigned leaf, unsigned sub) {
  CpuidRegs r;
#if defined(_MSC_VER)
  int v[4];
  __cpuidex(v, static_cast<int>(leaf), static_cast<int>(sub));
  r.a = v[0]; r.b = v[1]; r.c = v[2]; r.d = v[3];
#else
  __cpuid_count(leaf, sub, r.a, r.b, r.c, r.d);
#endif
  return r;
}

unsigned long long xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}

struct X86Support { bool avx2 = false, avx512 = false; };

X86Support detectX86() {
  X86Support s;
  if (cpuid(0, 0).a < 7) return s;
  const CpuidRegs l1 = cpuid(1, 0), l7 = cpuid(7, 0);
  const bool osxsave = l1.c & (1u << 27), avx = l1.c & (1u << 28), fma = l1.c & (1u << 12);
  if (!osxsave || !avx) return s;
  const unsigned long long xcr = xcr0();
  const bool ymmSaved = (xcr & 0x6) == 0x6;            // SSE and AVX state
  const bool zmmSaved = (xcr & 0xE6) == 0xE6;          // plus opmask, ZMM_Hi256, Hi16_ZMM
  s.avx2 = ymmSaved && fma && (l7.b & (1u << 5));
  s.avx512 = s.avx2 && zmmSaved && (l7.b & (1u << 16));  // AVX-512F
  return s;
}
#endif

const KernelTable* choose() {
  std::vector<const KernelTable*> sets = supportedKernelSets();
  const char* want = std::getenv("CONVND_ISA");
  if (want && *want)
    for (const KernelTable* t : sets)
      if (std::strcmp(t->isa, want) == 0) return t;
  return sets.front();
}

}  // namespace

std::vector<const KernelTable*> supportedKernelSets() {
  std::vector<const KernelTable*> sets;
#if defined(__x86_64__) || defined(_M_X64)
  const X86Support s = detectX86();
  if (s.avx512) sets.push_back(&avx512Kernels());
  if (s.avx2) sets.push_back(&avx2Kernels());
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
  sets.push_back(&neonKernels());
#endif
  sets.push_back(&scalarKernels());
  return sets;
}

const KernelTable& activeKernels() {
  static const KernelTable* chosen = choose();
  return *chosen;
}

}  // namespace convnd
