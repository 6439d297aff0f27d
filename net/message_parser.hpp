#pragma once
// An HTTP/1 message parsed straight into our own types: the fields into a
// header_list (names lowercased, in arrival order, duplicates kept) and the
// body into a string. Beast's basic_parser still does the framing, the
// limits and the errors; what goes is Beast's message, whose basic_fields
// allocated per field before we copied every field out of it again.
// Internal to net/: it includes Beast.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/verb.hpp>

#include "net/http_server.hpp"

namespace sb::net {

/// Like Beast's parser, one per message: emplace a new one for the next.
template <bool isRequest>
class message_parser final : public boost::beast::http::basic_parser<isRequest> {
 public:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;

  message_parser() = default;

  // The start line: method and target of a request, status of a response.
  [[nodiscard]] boost::beast::http::verb method() const { return method_; }
  [[nodiscard]] std::string& method_string() { return method_string_; }
  [[nodiscard]] std::string& target() { return target_; }
  [[nodiscard]] int status() const { return status_; }
  [[nodiscard]] unsigned version() const { return version_; }

  /// The header section; a chunked body's trailer is not added to it.
  [[nodiscard]] header_list& headers() { return headers_; }
  /// The first field of that name (lowercase), if any.
  [[nodiscard]] std::optional<std::string_view> field(std::string_view lowercase_name) const;
  /// The body as decoded so far; the caller may take it out between puts.
  [[nodiscard]] std::string& body() { return body_; }

 private:
  void on_request_impl(boost::beast::http::verb method, string_view method_string, string_view target,
                       int version, error_code& ec) override;
  void on_response_impl(int status, string_view reason, int version, error_code& ec) override;
  void on_field_impl(boost::beast::http::field, string_view name, string_view value, error_code& ec) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code& ec) override;
  std::size_t on_body_impl(string_view piece, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view piece, error_code& ec) override;
  void on_finish_impl(error_code&) override {}

  boost::beast::http::verb method_ = boost::beast::http::verb::unknown;
  std::string method_string_;
  std::string target_;
  int status_ = 0;
  unsigned version_ = 11;
  header_list headers_;
  std::string body_;
};

// Compiled once, in message_parser.cpp.
extern template class message_parser<true>;
extern template class message_parser<false>;

using request_parser = message_parser<true>;
using response_parser = message_parser<false>;

}  // namespace sb::net
