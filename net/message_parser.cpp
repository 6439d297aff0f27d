#include "net/message_parser.hpp"

#include <tuple>
#include <utility>

namespace sb::net {

namespace {

// Most heads have fewer: one allocation for the list instead of five as it grows.
constexpr std::size_t expected_fields = 16;

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

template <bool isRequest>
std::optional<std::string_view> message_parser<isRequest>::field(std::string_view lowercase_name) const {
  for (const auto& [name, value] : headers_)
    if (name == lowercase_name) return std::string_view(value);
  return std::nullopt;
}

template <bool isRequest>
void message_parser<isRequest>::on_request_impl(boost::beast::http::verb method, string_view method_string,
                                                string_view target, int version, error_code&) {
  method_ = method;
  method_string_.assign(method_string.data(), method_string.size());
  target_.assign(target.data(), target.size());
  version_ = static_cast<unsigned>(version);
}

template <bool isRequest>
void message_parser<isRequest>::on_response_impl(int status, string_view, int version, error_code&) {
  status_ = status;
  version_ = static_cast<unsigned>(version);
}

template <bool isRequest>
void message_parser<isRequest>::on_field_impl(boost::beast::http::field, string_view name, string_view value,
                                              error_code&) {
  // Past the head, fields are a chunked body's trailer: the head has been
  // handed out by then (a response's) or should not change under a check
  // already made on it (a request's Expect).
  if (this->is_header_done()) return;
  if (headers_.capacity() == 0) headers_.reserve(expected_fields);
  auto& lower_name = headers_
                         .emplace_back(std::piecewise_construct, std::forward_as_tuple(name.data(), name.size()),
                                       std::forward_as_tuple(value.data(), value.size()))
                         .first;
  for (char& c : lower_name) c = ascii_lower(c);  // a field name is a token: ASCII only
}

template <bool isRequest>
void message_parser<isRequest>::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                                  error_code&) {
  // A request's declared length passed body_limit already. A response's is
  // only the server's word, and upstream_exchange takes the body out after
  // every read: appending allocates just what came.
  if constexpr (isRequest) {
    if (content_length) body_.reserve(static_cast<std::size_t>(*content_length));
  }
}

template <bool isRequest>
std::size_t message_parser<isRequest>::on_body_impl(string_view piece, error_code&) {
  body_.append(piece.data(), piece.size());
  return piece.size();
}

template <bool isRequest>
std::size_t message_parser<isRequest>::on_chunk_body_impl(std::uint64_t, string_view piece, error_code& ec) {
  return on_body_impl(piece, ec);  // chunks end up in one body, as Beast's string_body did
}

template class message_parser<true>;
template class message_parser<false>;

}  // namespace sb::net
