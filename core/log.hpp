#pragma once
// One line per event on stderr: time, level, message. Thread-safe. Secrets
// never reach it: callers name keys by id ("openai#2"), never by value.

#include <string_view>

namespace sb::log {

enum class level { debug, info, warn, error };

void write(level l, std::string_view message);
inline void info(std::string_view m) { write(level::info, m); }
inline void warn(std::string_view m) { write(level::warn, m); }
inline void error(std::string_view m) { write(level::error, m); }

}  // namespace sb::log
