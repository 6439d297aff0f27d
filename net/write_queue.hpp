#pragma once
// The bytes a connection owes its client, in order: response heads, whole
// bodies and chunk-framed pieces. Bodies are moved in and written from where
// they are (gather writes), never copied; partial writes resume mid-piece.
// Not thread-safe: the connection's thread owns it.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>

namespace sb::net {

/// A cheap-to-copy view over the queue's gather array; asio copies the buffer
/// sequence into each write operation, so a std::vector here would allocate.
struct buffer_span {
  const boost::asio::const_buffer* first = nullptr;
  std::size_t count = 0;
  [[nodiscard]] const boost::asio::const_buffer* begin() const { return first; }
  [[nodiscard]] const boost::asio::const_buffer* end() const { return first + count; }
};

class write_queue {
 public:
  /// `pending` counts body and chunk-data bytes pushed and not yet written
  /// (framing excluded); other threads may read it.
  explicit write_queue(std::atomic<std::size_t>& pending) : pending_(pending) {}

  /// Bytes that outlive the write (a literal, or a buffer the owner keeps).
  void push_borrowed(std::string_view bytes);
  /// A body, moved in, written as is.
  void push_data(std::string data);
  /// A body piece framed as one HTTP/1.1 chunk. Empty data is the caller's
  /// bug (it would end the body), so it is dropped.
  void push_chunk(std::string data);
  /// The terminating zero-size chunk.
  void push_last_chunk();

  [[nodiscard]] bool empty() const { return head_ == pieces_.size(); }
  /// Up to a fixed number of buffers from the front; valid until the next
  /// call of any other member.
  [[nodiscard]] buffer_span gather();
  /// `n` bytes reached the socket.
  void consume(std::size_t n);
  /// Drops everything (the socket is gone).
  void clear();

 private:
  struct piece {
    std::string_view borrowed;
    std::array<char, 20> size_line{};  // "<hex>\r\n" of a chunk
    std::uint8_t size_line_len = 0;
    std::string data;
    bool crlf_after = false;  // chunk trailer

    [[nodiscard]] std::array<boost::asio::const_buffer, 4> parts() const;
  };

  static constexpr std::size_t max_gather_pieces = 16;

  std::vector<piece> pieces_;
  std::size_t head_ = 0;         // first unwritten piece
  std::size_t head_offset_ = 0;  // bytes of pieces_[head_] already written
  std::array<boost::asio::const_buffer, max_gather_pieces * 4> gather_{};
  std::atomic<std::size_t>& pending_;
};

}  // namespace sb::net
