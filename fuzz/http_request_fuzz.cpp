// DeviceSocket's request reading without the socket: the input arrives in pieces whose
// sizes the input itself chooses, and every request parsed from the buffer is followed by
// the next one (pipelining), with the listener's limits.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "http/request_buffer.hpp"

namespace {

using Parser = provgate::http::RequestParser;

void Limit(Parser& parser) {
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // bytes per read
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string buffered;
  auto parser = std::make_unique<Parser>();
  Limit(*parser);
  size_t fed = 0;
  int requests = 0;
  while (fed < input.size()) {
    const size_t n = std::min(piece, input.size() - fed);
    buffered.append(input.substr(fed, n));
    fed += n;
    for (;;) {
      const size_t before = buffered.size();
      const auto ec = provgate::http::ParseBuffered(*parser, buffered, 8 * 1024);
      if (buffered.size() > before) std::abort();  // it only ever consumes
      if (ec) return 0;                            // the listener answers 4xx and closes
      if (!parser->is_done()) break;               // needs the next read
      if (++requests > 10'000) std::abort();       // every request consumes bytes
      parser = std::make_unique<Parser>();
      Limit(*parser);
    }
  }
  return 0;
}
