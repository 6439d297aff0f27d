#pragma once
// A tiny tool endpoint for the tool loop's tests: POSIX sockets on
// 127.0.0.1, one connection at a time, answers JSON per path and records
// every call (path and body). "Connection: close" on every answer.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sb::testing {

class fake_tool_server {
 public:
  struct call {
    std::string path;
    std::string body;
  };
  struct reply {
    int status = 200;
    std::string body = R"({"ok":true})";
    std::chrono::milliseconds delay{0};
  };

  fake_tool_server() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("fake_tool_server: bind/listen failed");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~fake_tool_server() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  fake_tool_server(const fake_tool_server&) = delete;
  fake_tool_server& operator=(const fake_tool_server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void set_reply(const std::string& path, reply r) {
    std::lock_guard lock(mutex_);
    replies_[path] = std::move(r);
  }
  [[nodiscard]] std::vector<call> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  [[nodiscard]] std::size_t call_count() const {
    std::lock_guard lock(mutex_);
    return calls_.size();
  }
  [[nodiscard]] std::size_t call_count(const std::string& path) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (auto& c : calls_) n += c.path == path;
    return n;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string in;
    char buf[4096];
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      if (header_end != std::string::npos && in.size() >= header_end + 4 + content_length) break;
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      auto n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<std::size_t>(n));
      if (header_end == std::string::npos && (header_end = in.find("\r\n\r\n")) != std::string::npos) {
        std::string head = in.substr(0, header_end);
        for (auto& ch : head) ch = static_cast<char>(::tolower(ch));
        auto cl = head.find("content-length:");
        if (cl != std::string::npos) content_length = std::stoul(head.substr(cl + 15));
      }
    }
    if (header_end == std::string::npos) return;
    auto sp1 = in.find(' ');
    auto sp2 = in.find(' ', sp1 + 1);
    call rec{in.substr(sp1 + 1, sp2 - sp1 - 1), in.substr(header_end + 4, content_length)};
    reply r;
    {
      std::lock_guard lock(mutex_);
      calls_.push_back(rec);
      if (auto i = replies_.find(rec.path); i != replies_.end()) r = i->second;
    }
    if (r.delay.count() > 0) std::this_thread::sleep_for(r.delay);
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\nContent-Type: application/json\r\n"
                      "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n" + r.body;
    std::size_t sent = 0;
    while (sent < out.size()) {
      auto n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::map<std::string, reply> replies_;
  std::vector<call> calls_;
};

}  // namespace sb::testing
