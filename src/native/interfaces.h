// Interface listing for the packet addon: name, ifindex, flags, MTU, MAC.
#pragma once

#include <napi.h>

namespace ironlb {

// listInterfaces(): every interface of the caller's network namespace.
Napi::Value ListInterfaces(const Napi::CallbackInfo& info);

}  // namespace ironlb
