// ironlb packet addon: one AF_PACKET/SOCK_RAW socket bound to one interface,
// filtered in the kernel to ARP and ICMPv6 NS/NA, read from the libuv loop.
//
// Everything runs on the JS main thread: uv_poll wakes us on the loop, we read
// every queued frame and hand them to JS in one call. No worker threads.
//
// Needs CAP_NET_RAW only: no promiscuous mode. Multicast frames reach a packet
// socket only when the NIC's filter accepts them, so solicited-node groups are
// joined with PACKET_ADD_MEMBERSHIP (the 33:33:xx MAC) and, for MLD-snooping
// switches, also at the IPv6 layer (IPV6_JOIN_GROUP sends MLD reports).

#include <napi.h>
#include <uv.h>

#include "errno_error.h"
#include "interfaces.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <exception>
#include <string>
#include <vector>

namespace {

// Frames read per wakeup before yielding back to the loop, so a flood on one
// interface cannot starve timers and the API client.
constexpr int kMaxFramesPerWakeup = 256;
// Large enough for any frame on a jumbo-MTU link; larger frames are cut (we
// only parse ARP and NS/NA, which are tiny).
constexpr size_t kReceiveBufferSize = 65536;
// Kernel receive queue of the socket, in bytes (each queued frame costs ~1 KB).
constexpr int kSocketReceiveBuffer = 4 * 1024 * 1024;

// Classic BPF: accept ARP, and IPv6 with next header ICMPv6 (58) of type 135
// (NS) or 136 (NA). IPv6 extension headers are not followed: NS/NA carrying
// extension headers are dropped (real NDP stacks do not send them).
sock_filter kFilter[] = {
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),                 // 0: ethertype
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_ARP, 6, 0),   // 1: ARP -> accept
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 6),  // 2: not IPv6 -> drop
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),                 // 3: IPv6 next header
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 4),  // 4: not ICMPv6 -> drop
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),                 // 5: ICMPv6 type
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),         // 6: NS -> accept
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),         // 7: NA -> accept, else drop
    BPF_STMT(BPF_RET | BPF_K, 0x40000),                     // 8: accept
    BPF_STMT(BPF_RET | BPF_K, 0),                           // 9: drop
};

// The ARP accept at 1 jumps 6 forward to 8; the drops at 2 and 4 land on 9.
static_assert(sizeof(kFilter) / sizeof(kFilter[0]) == 10, "jump offsets assume 10 instructions");

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod("send", &PacketSocket::Send),
                           InstanceMethod("addMembership", &PacketSocket::AddMembership),
                           InstanceMethod("dropMembership", &PacketSocket::DropMembership),
                           InstanceMethod("joinGroup6", &PacketSocket::JoinGroup6),
                           InstanceMethod("leaveGroup6", &PacketSocket::LeaveGroup6),
                           InstanceMethod("statistics", &PacketSocket::Statistics),
                           InstanceMethod("ref", &PacketSocket::RefLoop),
                           InstanceMethod("unref", &PacketSocket::UnrefLoop),
                           InstanceMethod("close", &PacketSocket::Close),
                       });
  }

  // new PacketSocket(ifindex, onFrames(frames: Buffer[], outgoing: boolean[]), onError(err))
  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsFunction()) {
      Napi::TypeError::New(env, "PacketSocket(ifindex: number, onFrames: function, onError: function)")
          .ThrowAsJavaScriptException();
      return;
    }
    int64_t ifindex = info[0].As<Napi::Number>().Int64Value();
    if (ifindex <= 0 || ifindex > 0x7fffffff) {
      Napi::RangeError::New(env, "ifindex must be a positive integer").ThrowAsJavaScriptException();
      return;
    }
    ifindex_ = static_cast<int>(ifindex);
    on_frames_ = Napi::Persistent(info[1].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[2].As<Napi::Function>());
    context_ = std::make_unique<Napi::AsyncContext>(env, "ironlb.PacketSocket");

    // Protocol 0 receives nothing until bind, so no unfiltered frame can slip
    // in between socket() and SO_ATTACH_FILTER.
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      ironlb::ErrnoError(env, "socket(AF_PACKET)", errno).ThrowAsJavaScriptException();
      return;
    }
    sock_fprog prog{static_cast<unsigned short>(sizeof(kFilter) / sizeof(kFilter[0])), kFilter};
    if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
      FailConstruct(env, "SO_ATTACH_FILTER");
      return;
    }
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);  // ETH_P_ALL so our own sent frames show as PACKET_OUTGOING
    addr.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
      FailConstruct(env, "bind(ifindex " + std::to_string(ifindex_) + ")");
      return;
    }
    // A burst of requests (an ARP storm, many clients at once) must not
    // overflow the default ~200 KB queue while JS is busy. FORCE needs
    // CAP_NET_ADMIN; without it the kernel caps the plain option at rmem_max.
    int rcvbuf = kSocketReceiveBuffer;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    buffer_.resize(kReceiveBufferSize);

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
      FailConstruct(env, "napi_get_uv_event_loop", EINVAL);
      return;
    }
    poll_ = new uv_poll_t;
    poll_->data = this;
    int rc = uv_poll_init(loop, poll_, fd_);
    if (rc == 0) rc = uv_poll_start(poll_, UV_READABLE, &PacketSocket::OnPoll);
    if (rc != 0) {
      delete poll_;
      poll_ = nullptr;
      FailConstruct(env, std::string("uv_poll: ") + uv_strerror(rc), EINVAL);
      return;
    }
    // Keep the JS object alive while the loop may call into it.
    Ref();
    // When the environment shuts down with the socket still open (unref'd),
    // stop polling first so no frame arrives into a dying JS context.
    if (napi_add_env_cleanup_hook(env, &PacketSocket::OnEnvCleanup, this) == napi_ok) cleanup_hook_ = true;
  }

  ~PacketSocket() override { CloseNow(); }

 private:
  void FailConstruct(Napi::Env env, const std::string& what, int err = -1) {
    int saved = err < 0 ? errno : err;
    ::close(fd_);
    fd_ = -1;
    ironlb::ErrnoError(env, what, saved).ThrowAsJavaScriptException();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<PacketSocket*>(handle->data);
    if (self == nullptr || self->fd_ < 0) return;
    // Nothing may escape into libuv: an uncaught C++ exception is std::terminate.
    try {
      self->HandlePoll(status, events);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(self->Env(), e.Value());
    } catch (const std::exception& e) {
      fprintf(stderr, "ironlb packet socket: %s\n", e.what());
    }
  }

  void HandlePoll(int status, int /*events*/) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // Pins the JS object for this call even if a callback closes the socket.
    Napi::Object keep_alive = Value();
    (void)keep_alive;
    if (status < 0) {
      // libuv stops the handle on POLLERR (reported as UV_EBADF). The real
      // cause is the socket's pending error (ENETDOWN when the link went
      // down); reading SO_ERROR clears it. The kernel re-hooks the socket when
      // the link comes back, so we report, drain and poll again.
      int err = 0;
      socklen_t len = sizeof(err);
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = -status;
      ReportError(env, "packet socket", err);
      if (fd_ < 0) return;  // closed by the error listener
      Drain(env);
      if (fd_ >= 0 && poll_ != nullptr) {
        int rc = uv_poll_start(poll_, UV_READABLE, &PacketSocket::OnPoll);
        if (rc != 0) ReportError(env, std::string("uv_poll_start: ") + uv_strerror(rc), -rc);
      }
      return;
    }
    Drain(env);
  }

  void Drain(Napi::Env env) {
    std::vector<Napi::Value> frames;
    std::vector<bool> outgoing;
    int read_errno = 0;
    for (int i = 0; i < kMaxFramesPerWakeup; i++) {
      sockaddr_ll from{};
      socklen_t fromlen = sizeof(from);
      ssize_t n = recvfrom(fd_, buffer_.data(), buffer_.size(), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) read_errno = errno;
        break;
      }
      frames.push_back(Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), static_cast<size_t>(n)));
      outgoing.push_back(from.sll_pkttype == PACKET_OUTGOING);
    }
    if (!frames.empty()) {
      Napi::Array js_frames = Napi::Array::New(env, frames.size());
      Napi::Array js_outgoing = Napi::Array::New(env, outgoing.size());
      for (size_t i = 0; i < frames.size(); i++) {
        js_frames.Set(static_cast<uint32_t>(i), frames[i]);
        js_outgoing.Set(static_cast<uint32_t>(i), Napi::Boolean::New(env, outgoing[i]));
      }
      CallJs(on_frames_, {js_frames, js_outgoing});
    }
    // ENETDOWN is a one-shot socket error set when the link goes down; the
    // kernel re-hooks the socket when the link comes back, so we keep polling.
    if (read_errno != 0 && fd_ >= 0) ReportError(env, "recvfrom", read_errno);
  }

  void ReportError(Napi::Env env, const std::string& what, int err) {
    if (on_error_.IsEmpty()) return;
    CallJs(on_error_, {ironlb::ErrnoError(env, what, err).Value()});
  }

  void CallJs(Napi::FunctionReference& fn, const std::initializer_list<napi_value>& args) {
    if (fn.IsEmpty()) return;
    try {
      // MakeCallback runs microtasks afterwards and keeps async hooks right.
      fn.MakeCallback(Value(), args, *context_);
    } catch (const Napi::Error& e) {
      // A listener threw. There is no JS caller on a libuv callback, so hand
      // it to process 'uncaughtException' as any event listener's error would
      // be, instead of letting it escape into C++ (std::terminate).
      napi_fatal_exception(Env(), e.Value());
    }
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0) {
      ironlb::ErrnoError(env, "send on a closed packet socket", EBADF).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (info.Length() < 1 || !info[0].IsBuffer()) {
      Napi::TypeError::New(env, "send(frame: Buffer)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto frame = info[0].As<Napi::Buffer<uint8_t>>();
    if (frame.Length() < 14) {
      Napi::RangeError::New(env, "a frame needs at least the 14-byte Ethernet header").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ssize_t n;
    do {
      n = ::send(fd_, frame.Data(), frame.Length(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      ironlb::ErrnoError(env, "send", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  bool ReadBytes(const Napi::CallbackInfo& info, size_t expected, const char* usage, const uint8_t** out) {
    if (info.Length() < 1 || !info[0].IsBuffer() || info[0].As<Napi::Buffer<uint8_t>>().Length() != expected) {
      Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
      return false;
    }
    *out = info[0].As<Napi::Buffer<uint8_t>>().Data();
    return true;
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    const uint8_t* mac;
    if (!ReadBytes(info, 6, "membership needs a 6-byte MAC Buffer", &mac)) return env.Undefined();
    if (fd_ < 0) {
      ironlb::ErrnoError(env, "membership on a closed packet socket", EBADF).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    packet_mreq mreq{};
    mreq.mr_ifindex = ifindex_;
    mreq.mr_type = PACKET_MR_MULTICAST;
    mreq.mr_alen = 6;
    memcpy(mreq.mr_address, mac, 6);
    if (setsockopt(fd_, SOL_PACKET, option, &mreq, sizeof(mreq)) < 0) {
      const char* call = option == PACKET_ADD_MEMBERSHIP ? "PACKET_ADD_MEMBERSHIP" : "PACKET_DROP_MEMBERSHIP";
      ironlb::ErrnoError(env, call, errno).ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }
  Napi::Value AddMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_ADD_MEMBERSHIP); }
  Napi::Value DropMembership(const Napi::CallbackInfo& info) { return Membership(info, PACKET_DROP_MEMBERSHIP); }

  Napi::Value Group6(const Napi::CallbackInfo& info, int option) {
    Napi::Env env = info.Env();
    const uint8_t* group;
    if (!ReadBytes(info, 16, "an IPv6 group is a 16-byte Buffer", &group)) return env.Undefined();
    if (fd_ < 0) {
      ironlb::ErrnoError(env, "group join on a closed packet socket", EBADF).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (fd6_ < 0) {
      // An unprivileged UDP socket is enough to join a group at the IPv6 layer.
      fd6_ = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd6_ < 0) {
        ironlb::ErrnoError(env, "socket(AF_INET6)", errno).ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    ipv6_mreq mreq{};
    memcpy(&mreq.ipv6mr_multiaddr, group, 16);
    mreq.ipv6mr_interface = static_cast<unsigned>(ifindex_);
    if (setsockopt(fd6_, IPPROTO_IPV6, option, &mreq, sizeof(mreq)) < 0) {
      ironlb::ErrnoError(env, option == IPV6_JOIN_GROUP ? "IPV6_JOIN_GROUP" : "IPV6_LEAVE_GROUP", errno)
          .ThrowAsJavaScriptException();
    }
    return env.Undefined();
  }
  Napi::Value JoinGroup6(const Napi::CallbackInfo& info) { return Group6(info, IPV6_JOIN_GROUP); }
  Napi::Value LeaveGroup6(const Napi::CallbackInfo& info) { return Group6(info, IPV6_LEAVE_GROUP); }

  // Kernel counters since the last call (reading resets them): frames queued
  // to the socket, and frames dropped because the receive buffer was full.
  Napi::Value Statistics(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    tpacket_stats stats{};
    socklen_t len = sizeof(stats);
    if (fd_ >= 0 && getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &len) < 0) {
      ironlb::ErrnoError(env, "PACKET_STATISTICS", errno).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    out.Set("packets", Napi::Number::New(env, stats.tp_packets));
    out.Set("drops", Napi::Number::New(env, stats.tp_drops));
    return out;
  }

  Napi::Value RefLoop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }
  Napi::Value UnrefLoop(const Napi::CallbackInfo& info) {
    if (poll_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool was_open = fd_ >= 0;
    CloseNow();
    if (was_open) Unref();  // balances the Ref() taken when the poll started
    return info.Env().Undefined();
  }

  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PacketSocket*>(arg);
    self->cleanup_hook_ = false;  // a hook that ran is already unregistered
    self->CloseNow();
  }

  void CloseNow() {
    if (cleanup_hook_) {
      napi_remove_env_cleanup_hook(Env(), &PacketSocket::OnEnvCleanup, this);
      cleanup_hook_ = false;
    }
    if (poll_ != nullptr) {
      // libuv requires the poll to stop before the fd is closed.
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (fd6_ >= 0) {
      ::close(fd6_);  // closing leaves every IPv6 group it joined
      fd6_ = -1;
    }
  }

  int fd_ = -1;
  int fd6_ = -1;
  int ifindex_ = 0;
  bool cleanup_hook_ = false;
  uv_poll_t* poll_ = nullptr;
  std::vector<uint8_t> buffer_;
  Napi::FunctionReference on_frames_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> context_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Init(env));
  exports.Set("listInterfaces", Napi::Function::New(env, ironlb::ListInterfaces));
  return exports;
}

}  // namespace

NODE_API_MODULE(ironlb_packet, Init)
