#pragma once
// A deliberately simple blocking HTTP/1.1 client for tests: plain POSIX
// sockets, so that what it checks does not share code with what it tests.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace sb::testing {

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;                            // de-chunked
  [[nodiscard]] std::string header(const std::string& name) const {
    auto i = headers.find(name);
    return i == headers.end() ? std::string() : i->second;
  }
};

/// One connection; requests go one after another (keep-alive).
class http_connection {
 public:
  explicit http_connection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~http_connection() { close(); }
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  void send_raw(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }

  void send_request(const std::string& method, const std::string& path, const std::string& body,
                    const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
    if (!body.empty() || method == "POST") {
      req += "Content-Type: application/json\r\n";
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n" + body;
    send_raw(req);
  }

  /// Reads the status line and headers. Throws on timeout or EOF.
  http_response read_head(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto end = buf_.find("\r\n\r\n");
    while (end == std::string::npos) {
      fill(timeout);
      end = buf_.find("\r\n\r\n");
    }
    http_response r;
    std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    r.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      auto line = head.substr(pos, e - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
      }
      pos = e + 2;
    }
    return r;
  }

  /// Reads the next body piece of a chunked response; empty at the end.
  std::string read_chunk(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto crlf = buf_.find("\r\n");
    while (crlf == std::string::npos) {
      fill(timeout);
      crlf = buf_.find("\r\n");
    }
    auto size = std::stoul(buf_.substr(0, crlf), nullptr, 16);
    while (buf_.size() < crlf + 2 + size + 2) fill(timeout);
    auto data = buf_.substr(crlf + 2, size);
    buf_.erase(0, crlf + 2 + size + 2);
    return data;
  }

  http_response read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto r = read_head(timeout);
    if (r.header("transfer-encoding") == "chunked") {
      for (auto piece = read_chunk(timeout); !piece.empty(); piece = read_chunk(timeout)) r.body += piece;
    } else {
      std::size_t len = r.headers.count("content-length") ? std::stoul(r.header("content-length")) : 0;
      while (buf_.size() < len) fill(timeout);
      r.body = buf_.substr(0, len);
      buf_.erase(0, len);
    }
    return r;
  }

  http_response request(const std::string& method, const std::string& path, const std::string& body = {},
                        const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    send_request(method, path, body, headers);
    return read_response();
  }

  /// True when the peer closed the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    try {
      for (;;) fill(timeout);
    } catch (const std::exception&) {
      return eof_;
    }
  }

 private:
  void fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) throw std::runtime_error("read timeout");
    char tmp[16384];
    auto n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      eof_ = true;
      throw std::runtime_error("connection closed");
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

inline http_response http_request(std::uint16_t port, const std::string& method, const std::string& path,
                                  const std::string& body = {},
                                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  http_connection c(port);
  return c.request(method, path, body, headers);
}

}  // namespace sb::testing
