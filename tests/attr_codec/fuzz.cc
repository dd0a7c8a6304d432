// Fuzzes decode_attrs (opforge/op_spec.h), the framework-free decoding of the
// bytes TensorRT 8.6 hands a plugin's deserializePlugin, for every op spec of
// an ops folder: random, truncated, oversized and corrupt buffers, each in an
// allocation of exactly its length (AddressSanitizer catches a read past it).
// Built and run by tests/test_attr_codec.py with -fsanitize=address,undefined.
//
//   fuzz ITERATIONS    prints one line per op; exit 1 on any broken property
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#define OPFORGE_REGISTER_OP(Spec) (::fuzz::tests().push_back(&::fuzz::run<Spec>), true)

#include "opforge/op_spec.h"

namespace fuzz {

std::vector<bool (*)(long)>& tests() {
  static std::vector<bool (*)(long)> all;
  return all;
}

unsigned long long state = 0x9e3779b97f4a7c15ull;
unsigned long long next() {  // xorshift64*: the same buffers on every run
  state ^= state >> 12, state ^= state << 25, state ^= state >> 27;
  return state * 0x2545f4914f6cdd1dull;
}

template <class Spec>
bool run(long iterations) {
  const std::size_t size = 4 * Spec::kAttrs.size();
  long accepted = 0, refused = 0, broken = 0;
  for (long it = 0; it < iterations; ++it) {
    // Lengths around the right one, and now and then far off.
    std::size_t length = size + (next() % 9) - 4;
    if (length > size + 4) length = 0;
    if (it % 97 == 0) length = next() % 4096;
    std::unique_ptr<char[]> buf(new char[length ? length : 1]);
    for (std::size_t i = 0; i < length; ++i) buf[i] = static_cast<char>(next());
    if (it % 3 == 0 && length >= 4) {  // special words: NaN, +-Inf, -1, 0, huge
      const float specials[] = {NAN, INFINITY, -INFINITY, -1.f, 0.f, 3e38f, -0.f, 1e-45f};
      std::memcpy(&buf[(next() % (length / 4)) * 4], &specials[next() % 8], 4);
    }
    double values[opforge::kMaxAttrs] = {};
    const std::string err = opforge::decode_attrs<Spec>(buf.get(), length, values);
    if (!err.empty()) {
      ++refused;
      continue;
    }
    ++accepted;
    // Accepted: the right length, values within the spec, and a round trip.
    char again[4 * opforge::kMaxAttrs + 1] = {};
    double back[opforge::kMaxAttrs] = {};
    opforge::encode_attrs<Spec>(values, again);
    bool ok = length == size && opforge::check_attrs<Spec>(values).empty() &&
              opforge::decode_attrs<Spec>(again, size, back).empty();
    for (std::size_t i = 0; i < Spec::kAttrs.size(); ++i)  // a NaN may come back with another payload
      ok = ok && (values[i] == back[i] || (std::isnan(values[i]) && std::isnan(back[i])));
    if (!ok) ++broken;
  }
  std::printf("%-10s %zu bytes: %ld accepted, %ld refused, %ld broken\n", Spec::kName, size, accepted, refused, broken);
  return broken == 0;
}

}  // namespace fuzz

#include OPFORGE_FUZZ_SPECS

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 100000;
  bool ok = true;
  for (auto* test : fuzz::tests()) ok &= test(iterations);
  return ok ? 0 : 1;
}
