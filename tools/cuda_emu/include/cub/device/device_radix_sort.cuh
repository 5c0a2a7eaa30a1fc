// The emulator's cub::DeviceRadixSort: SortPairs as a stable sort on the host, with CUB's
// two-call protocol (a null temp pointer asks for the temporary storage size).
#pragma once
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <vector>

namespace cub {

struct DeviceRadixSort {
  template <class Key, class Value, class NumItems>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const Key* keys_in, Key* keys_out,
                               const Value* values_in, Value* values_out, NumItems num_items, int begin_bit = 0,
                               int end_bit = static_cast<int>(sizeof(Key) * 8), cudaStream_t = nullptr) {
    if (d_temp_storage == nullptr) {
      temp_storage_bytes = 256;  // CUB always asks for some
      return cudaSuccess;
    }
    if (temp_storage_bytes < 256) return cudaErrorInvalidValue;
    const size_t n = static_cast<size_t>(num_items);
    const int bits = end_bit - begin_bit;
    auto digits = [&](Key k) {  // only bits [begin_bit, end_bit) take part, as in CUB
      const Key shifted = static_cast<Key>(k >> begin_bit);
      return bits >= static_cast<int>(sizeof(Key) * 8) ? shifted : static_cast<Key>(shifted & ((Key{1} << bits) - 1));
    };
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return digits(keys_in[a]) < digits(keys_in[b]); });
    std::vector<Key> keys(n);
    std::vector<Value> values(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = keys_in[order[i]];
      values[i] = values_in[order[i]];
    }
    std::copy(keys.begin(), keys.end(), keys_out);
    std::copy(values.begin(), values.end(), values_out);
    return cudaSuccess;
  }
};

}  // namespace cub
