// Errors from system calls, as JS Errors with `code` (the errno name) and `errno`.
#pragma once

#include <napi.h>

#include <errno.h>
#include <string.h>

#include <string>

namespace ironlb {

inline Napi::Error ErrnoError(Napi::Env env, const std::string& what, int err) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  const char* name = nullptr;
  switch (err) {
    case ENETDOWN: name = "ENETDOWN"; break;
    case ENXIO: name = "ENXIO"; break;
    case ENODEV: name = "ENODEV"; break;
    case EPERM: name = "EPERM"; break;
    case EACCES: name = "EACCES"; break;
    case EAGAIN: name = "EAGAIN"; break;
    case ENOBUFS: name = "ENOBUFS"; break;
    case EINVAL: name = "EINVAL"; break;
    case EMSGSIZE: name = "EMSGSIZE"; break;
    case EADDRINUSE: name = "EADDRINUSE"; break;
    case EADDRNOTAVAIL: name = "EADDRNOTAVAIL"; break;
    case EBADF: name = "EBADF"; break;
    default: break;
  }
  e.Set("code", Napi::String::New(env, name ? name : ("E" + std::to_string(err))));
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

}  // namespace ironlb
