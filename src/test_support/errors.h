// error_of: the message of the edgegnn::Error a callable throws, for tests that
// check what an error says.
#pragma once

#include <string>

#include "core/error.h"

namespace edgegnn::test {

// The message of the Error `fn` throws, or "no error".
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace edgegnn::test
