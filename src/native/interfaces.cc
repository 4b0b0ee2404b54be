// Interface facts read with ioctls in the caller's network namespace (unlike
// /sys, which shows the namespace that mounted it).
#include "interfaces.h"

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errno_error.h"

namespace ironlb {
namespace {

Napi::Value DescribeInterface(Napi::Env env, int ctl, const char* name, unsigned index) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", Napi::String::New(env, name));
  out.Set("ifindex", Napi::Number::New(env, index));
  ifreq req{};
  strncpy(req.ifr_name, name, IFNAMSIZ - 1);
  int flags = 0;
  if (ioctl(ctl, SIOCGIFFLAGS, &req) == 0) flags = req.ifr_flags & 0xffff;
  out.Set("flags", Napi::Number::New(env, flags));
  int mtu = 0;
  if (ioctl(ctl, SIOCGIFMTU, &req) == 0) mtu = req.ifr_mtu;
  out.Set("mtu", Napi::Number::New(env, mtu));
  uint8_t mac[6] = {0};
  int hwtype = -1;
  if (ioctl(ctl, SIOCGIFHWADDR, &req) == 0) {
    hwtype = req.ifr_hwaddr.sa_family;
    memcpy(mac, req.ifr_hwaddr.sa_data, 6);
  }
  out.Set("hwType", Napi::Number::New(env, hwtype));
  out.Set("mac", Napi::Buffer<uint8_t>::Copy(env, mac, 6));
  return out;
}

}  // namespace

Napi::Value ListInterfaces(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  struct if_nameindex* list = if_nameindex();
  if (list == nullptr) {
    ErrnoError(env, "if_nameindex", errno).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (ctl < 0) {
    int err = errno;
    if_freenameindex(list);
    ErrnoError(env, "socket(AF_INET)", err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (struct if_nameindex* it = list; it->if_index != 0 && it->if_name != nullptr; it++) {
    out.Set(n++, DescribeInterface(env, ctl, it->if_name, it->if_index));
  }
  ::close(ctl);
  if_freenameindex(list);
  return out;
}

}  // namespace ironlb
