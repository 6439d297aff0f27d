#include "core/workspace_auth.hpp"

#include <cctype>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace sb {

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    return {};  // only on allocation failure; an empty digest matches no workspace
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string_view> bearer_token(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  std::string_view h = *header;
  auto skip_spaces = [&] {
    while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
    while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  };
  skip_spaces();
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(h[i])) != scheme[i]) return std::nullopt;
  if (h[scheme.size()] != ' ' && h[scheme.size()] != '\t') return std::nullopt;
  h.remove_prefix(scheme.size());
  skip_spaces();
  if (h.empty()) return std::nullopt;
  return h;
}

const workspace_config& open_workspace() {
  static const workspace_config open = [] {
    workspace_config ws;
    ws.id = "default";
    return ws;
  }();
  return open;
}

std::variant<const workspace_config*, api_error> authenticate(
    const gateway_config& cfg, std::optional<std::string_view> authorization_header) {
  if (cfg.open_mode()) return &open_workspace();
  if (!authorization_header)
    return unauthorized(
        "Missing Authorization header: send 'Authorization: Bearer <your workspace token>'.");
  auto token = bearer_token(authorization_header);
  if (!token)
    return unauthorized(
        "Malformed Authorization header: expected 'Authorization: Bearer <your workspace token>'.");
  const auto digest = sha256_hex(*token);
  // Every hash is compared, match or not, so timing says nothing about which.
  const workspace_config* found = nullptr;
  for (const auto& ws : cfg.workspaces)
    for (const auto& hash : ws.api_key_sha256)
      if (constant_time_equals(digest, hash) && !found) found = &ws;
  if (found) return found;
  std::string hint;
  if (token->size() >= 8) hint = " ending in '" + std::string(token->substr(token->size() - 4)) + "'";
  return unauthorized("Invalid API key" + hint + ": no workspace has this token.");
}

bool is_admin(const gateway_config& cfg, std::string_view token) {
  if (cfg.admin_token.empty()) return false;
  // Digests have equal lengths, so not even the token's length leaks.
  return constant_time_equals(sha256_hex(token), sha256_hex(cfg.admin_token));
}

}  // namespace sb
