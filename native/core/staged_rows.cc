#include "staged_rows.h"

#include <algorithm>
#include <vector>
#include "row_buffer.h"

namespace convnd {

namespace {

// A block's copy is kept to about this many floats (1 MiB, in L2 while the tiles read it), and to
// at most this many output rows: a 64-channel 56-wide layer stages 16 rows (18 input rows a
// channel, 261 KiB).
constexpr int64_t kBlockFloats = 256 * 1024;
constexpr int64_t kMaxBlockRows = 16;

}  // namespace

StagedRows::StagedRows(const WindowedGemm& p, int64_t span) : p_(p) {
  const AxisMap &ah = p.axes[1], &aw = p.axes[2];
  const auto [wLow, wHigh] = std::minmax_element(aw.offset.begin(), aw.offset.end());
  const auto [hLow, hHigh] = std::minmax_element(ah.offset.begin(), ah.offset.end());
  lowest_ = *wLow;
  hLowest_ = *hLow;
  windowRows_ = *hHigh - *hLow + 1;
  rowFloats_ = aw.inStep * (span - 1) + (*wHigh - *wLow) + 1;
  const int64_t channelRowFloats = std::max<int64_t>(1, p.inPerGroup * rowFloats_);
  outputRows_ = std::clamp<int64_t>((kBlockFloats / channelRowFloats - windowRows_) / ah.inStep + 1, 1, kMaxBlockRows);
  const int64_t blockRows = ah.inStep * (outputRows_ - 1) + windowRows_;
  storageFloats_ = p.inPerGroup * blockRows * rowFloats_;
  // The rows a full block's windows read, of the blockRows it copies: a large dilation along H
  // (taps 40 rows apart) would copy every row between the taps for each output row.
  std::vector<char> read(static_cast<size_t>(blockRows), 0);
  for (int64_t t = 0; t < outputRows_; ++t)
    for (const int64_t o : ah.offset) read[static_cast<size_t>(ah.inStep * t + o - hLowest_)] = 1;
  dense_ = 2 * std::count(read.begin(), read.end(), 1) >= blockRows;
}

void StagedRows::ensure(float* storage, int64_t n, int64_t g, int64_t column, int64_t t0, int64_t td, int64_t th,
                        int64_t rows) {
  if (n == n_ && g == g_ && column == column_ && td == td_ && th >= thFirst_ && th < thEnd_) return;
  const AxisMap &ad = p_.axes[0], &ah = p_.axes[1], &aw = p_.axes[2];
  n_ = n;
  g_ = g;
  column_ = column;
  td_ = td;
  thFirst_ = th;
  thEnd_ = th + std::min(rows, outputRows_);
  ihFirst_ = ah.inStep * th + hLowest_;
  rows_ = ah.inStep * (thEnd_ - 1 - th) + windowRows_;
  const int64_t id = ad.inStep * td + ad.offset[0];
  const bool planeInside = id >= 0 && id < ad.inSize;
  const int64_t firstInput = aw.inStep * t0 + lowest_;
  const int64_t inVolume = ad.inSize * ah.inSize * aw.inSize;
  const float* inGroup = p_.input + (n * p_.groups + g) * p_.inPerGroup * inVolume;
  float* dst = storage;
  for (int64_t c = 0; c < p_.inPerGroup; ++c)
    for (int64_t ih = ihFirst_; ih < ihFirst_ + rows_; ++ih, dst += rowFloats_) {
      const bool inside = planeInside && ih >= 0 && ih < ah.inSize;
      copyRowPadded(dst, rowFloats_, inside ? inGroup + c * inVolume + (id * ah.inSize + ih) * aw.inSize : nullptr,
                    firstInput, aw.inSize);
    }
}

}  // namespace convnd
