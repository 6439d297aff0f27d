#include "net/write_queue.hpp"

#include <algorithm>
#include <charconv>

namespace sb::net {

namespace asio = boost::asio;

std::array<asio::const_buffer, 4> write_queue::piece::parts() const {
  static constexpr std::string_view crlf = "\r\n";
  return {asio::buffer(borrowed.data(), borrowed.size()), asio::buffer(size_line.data(), size_line_len),
          asio::buffer(data), crlf_after ? asio::buffer(crlf.data(), crlf.size()) : asio::const_buffer()};
}

void write_queue::push_borrowed(std::string_view bytes) {
  piece& p = pieces_.emplace_back();
  p.borrowed = bytes;
}

void write_queue::push_data(std::string data) {
  if (data.empty()) return;
  pending_.fetch_add(data.size(), std::memory_order_relaxed);
  piece& p = pieces_.emplace_back();
  p.data = std::move(data);
}

void write_queue::push_chunk(std::string data) {
  if (data.empty()) return;
  piece& p = pieces_.emplace_back();
  char* end = std::to_chars(p.size_line.data(), p.size_line.data() + 16, data.size(), 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  p.size_line_len = static_cast<std::uint8_t>(end - p.size_line.data());
  pending_.fetch_add(data.size(), std::memory_order_relaxed);
  p.data = std::move(data);
  p.crlf_after = true;
}

void write_queue::push_last_chunk() { push_borrowed("0\r\n\r\n"); }

buffer_span write_queue::gather() {
  std::size_t n = 0;
  std::size_t skip = head_offset_;
  const std::size_t last = std::min(pieces_.size(), head_ + max_gather_pieces);
  for (std::size_t i = head_; i < last; ++i) {
    for (const auto& part : pieces_[i].parts()) {
      if (skip >= part.size()) {
        skip -= part.size();
        continue;
      }
      gather_[n++] = part + skip;
      skip = 0;
    }
  }
  return {gather_.data(), n};
}

void write_queue::consume(std::size_t n) {
  std::size_t data_written = 0;
  while (n > 0 && head_ < pieces_.size()) {
    piece& p = pieces_[head_];
    const std::size_t data_begin = p.borrowed.size() + p.size_line_len;
    const std::size_t data_end = data_begin + p.data.size();
    const std::size_t total = data_end + (p.crlf_after ? 2 : 0);
    const std::size_t from = head_offset_;
    const std::size_t to = std::min(total, from + n);
    const std::size_t lo = std::max(from, data_begin);
    const std::size_t hi = std::min(to, data_end);
    if (hi > lo) data_written += hi - lo;
    n -= to - from;
    if (to == total) {
      std::string().swap(p.data);  // a big body's memory goes back now, not at the end
      ++head_;
      head_offset_ = 0;
    } else {
      head_offset_ = to;
    }
  }
  pending_.fetch_sub(data_written, std::memory_order_relaxed);
  if (head_ == pieces_.size()) {
    pieces_.clear();  // keeps the capacity for the next response
    head_ = 0;
  } else if (head_ >= 64 && head_ * 2 >= pieces_.size()) {
    // a stream whose queue never drains would otherwise grow forever
    pieces_.erase(pieces_.begin(), pieces_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void write_queue::clear() {
  std::size_t unwritten = 0;
  for (std::size_t i = head_; i < pieces_.size(); ++i) unwritten += pieces_[i].data.size();
  if (head_ < pieces_.size()) {
    const piece& p = pieces_[head_];
    const std::size_t data_begin = p.borrowed.size() + p.size_line_len;
    if (head_offset_ > data_begin) unwritten -= std::min(p.data.size(), head_offset_ - data_begin);
  }
  pending_.fetch_sub(unwritten, std::memory_order_relaxed);
  pieces_.clear();
  head_ = 0;
  head_offset_ = 0;
}

}  // namespace sb::net
