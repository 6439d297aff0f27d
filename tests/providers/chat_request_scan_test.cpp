// scan_plain_chat_request: what the chat endpoint reads from a plain
// request's text must be what it would read from the request's tree.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/token_estimate.hpp"
#include "providers/chat_request_scan.hpp"

using nlohmann::json;
using sb::providers::scan_plain_chat_request;
using sb::providers::valid_utf8;

namespace {

const std::vector<std::string> plain_bodies = {
    R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})",
    R"( { "messages" : [ {"role":"system","content":"Be brief."}, {"content":"caf\u00e9 \ud83d\ude00","role":"user"} ] ,
        "model" : "auto", "stream" : true, "stream_options" : {"include_usage" : true, "x": [1]} } )",
    R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"two"},{"type":"image_url","image_url":{"url":"u"}},{"text":"parts"}]}],"stream":null,"stream_options":null})",
    R"({"model":"m","messages":[{"role":"assistant","content":null},{"role":"tool","content":"x","tool_call_id":"c1"},{"role":"developer","content":7}]})",
    R"({"model":"m","messages":[{"role":"user","content":"é ü"}],"max_tokens":64,"max_completion_tokens":32,"user":"u-1","temperature":0.7})",
    R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":null,"temperature":2,"stop":["a"],"tools":null,"user":""})",
    R"({"model":"m","messages":[{"role":"function","content":"x","name":"f"}],"temperature":0,"stop":"END","metadata":{"a":{"b":[1,2,{"c":null}]}},"n":1,"seed":-5,"logit_bias":{"1":-1.5e2}})",
    R"({"model":"m","messages":[{"role":"user","content":"line\nbreak \"quoted\" \\ tab\t"}],"stream":false})",
};

/// The same facts the endpoint reads from a tree (app/chat_endpoint.cpp).
void check_same_as_tree(const std::string& text, const sb::providers::plain_chat_request& p) {
  auto tree = json::parse(text);
  CHECK(p.model == tree["model"].get<std::string>());
  auto s = tree.find("stream");
  CHECK(p.stream == (s != tree.end() && s->is_boolean() && s->get<bool>()));
  bool usage = false;
  if (auto so = tree.find("stream_options"); so != tree.end() && so->is_object())
    if (auto u = so->find("include_usage"); u != so->end() && u->is_boolean()) usage = u->get<bool>();
  CHECK(p.include_usage == usage);
  for (const char* k : {"max_tokens", "max_completion_tokens"}) {
    auto v = tree.find(k);
    std::optional<std::int64_t> want;
    if (v != tree.end() && v->is_number_integer()) want = v->get<std::int64_t>();
    CHECK((std::string(k) == "max_tokens" ? p.max_tokens : p.max_completion_tokens) == want);
  }
  auto u = tree.find("user");
  std::string user = u != tree.end() && u->is_string() ? u->get<std::string>() : "";
  CHECK(p.user == user);
  CHECK(sb::estimate_prompt_tokens(p.prompt_chars, p.messages) == sb::estimate_prompt_tokens(tree));
  CHECK(p.messages == static_cast<std::int64_t>(tree["messages"].size()));
}

}  // namespace

TEST_CASE("chat request scan: a plain request's facts are the tree's", "[chat_request_scan]") {
  for (auto& text : plain_bodies) {
    INFO(text);
    auto p = scan_plain_chat_request(text);
    REQUIRE(p);
    check_same_as_tree(text, *p);
  }
}

TEST_CASE("chat request scan: anything not plain - valid or not - goes to the tree", "[chat_request_scan]") {
  const std::vector<std::string> not_plain = {
      // not valid JSON, or not an object
      "", "[]", "{", R"({"model":"m","messages":[{"role":"user","content":"x"}]} x)", "\xEF\xBB\xBF{}",
      R"({"model":"m","messages":[{"role":"user","content":"x"}],})",
      std::string(R"({"model":"m","messages":[{"role":"user","content":"bad )") + "\xC3\x28" + R"("}]})",
      std::string(R"({"model":"m","messages":[{"role":"user","content":"overlong )") + "\xC0\xAF" + R"("}]})",
      // what validate() refuses
      R"({"messages":[{"role":"user","content":"x"}]})",
      R"({"model":"","messages":[{"role":"user","content":"x"}]})",
      R"({"model":5,"messages":[{"role":"user","content":"x"}]})",
      R"({"model":"m","messages":[]})",
      R"({"model":"m","messages":{}})",
      R"({"model":"m","messages":["hi"]})",
      R"({"model":"m","messages":[{"content":"x"}]})",
      R"({"model":"m","messages":[{"role":"robot","content":"x"}]})",
      R"({"model":"m","messages":[{"role":1,"content":"x"}]})",
      R"({"model":"m","messages":[{"role":"user"}],"stream":"yes"})",
      R"({"model":"m","messages":[{"role":"user"}],"stream_options":[]})",
      R"({"model":"m","messages":[{"role":"user"}],"stream_options":{"include_usage":"yes"}})",
      R"({"model":"m","messages":[{"role":"user"}],"max_tokens":0})",
      R"({"model":"m","messages":[{"role":"user"}],"max_tokens":1.0})",
      R"({"model":"m","messages":[{"role":"user"}],"max_tokens":1e3})",
      R"({"model":"m","messages":[{"role":"user"}],"max_tokens":"5"})",
      R"({"model":"m","messages":[{"role":"user"}],"max_completion_tokens":99999999999999999999})",
      R"({"model":"m","messages":[{"role":"user"}],"temperature":2.5})",
      R"({"model":"m","messages":[{"role":"user"}],"temperature":-0.1})",
      R"({"model":"m","messages":[{"role":"user"}],"temperature":"hot"})",
      R"({"model":"m","messages":[{"role":"user"}],"stop":5})",
      R"({"model":"m","messages":[{"role":"user"}],"tools":{}})",
      // what the gateway rewrites or estimates from a serialisation
      R"({"model":"m","messages":[{"role":"user"}],"tools":[]})",
      R"({"model":"m","messages":[{"role":"user"}],"prompt":{"id":"p"}})",
      R"({"model":"m","messages":[{"role":"user"}],"gateway_tools":null})",
      R"({"model":"m","messages":[{"role":"assistant","tool_calls":[]}]})",
      // a repeated key anywhere: the tree keeps the last, the text both
      R"({"model":"m","model":"n","messages":[{"role":"user"}]})",
      R"({"model":"m","messages":[{"role":"user","role":"robot"}]})",
      R"({"model":"m","messages":[{"role":"user","content":[{"text":"a","text":"b"}]}]})",
      R"({"model":"m","messages":[{"role":"user"}],"stream_options":{"include_usage":true,"include_usage":false}})",
  };
  for (auto& text : not_plain) {
    INFO(text);
    CHECK_FALSE(scan_plain_chat_request(text));
  }
}

TEST_CASE("chat request scan: strict UTF-8", "[chat_request_scan]") {
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  CHECK_FALSE(valid_utf8("\xC3"));              // cut short
  CHECK_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));      // a surrogate
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(valid_utf8("\x80"));              // a lone continuation byte
  CHECK_FALSE(valid_utf8("\xF5\x80\x80\x80"));
  // Long ASCII runs are checked eight bytes at a time: bad bytes after them still count.
  CHECK(valid_utf8("abcdefghijklmnop\xC3\xA9qrstuvwxyz0123456789"));
  CHECK_FALSE(valid_utf8("abcdefghijklmnop\xC0\xAFqrstuvwxyz"));
  CHECK_FALSE(valid_utf8("abcdefghijklmnopqrstuvw\xC3"));
  // The same verdicts as nlohmann's parser on a string holding them.
  for (std::string bytes : {"\xC3\xA9", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF0\x9F\x98\x80"}) {
    INFO(bytes.size());
    auto parsed = json::parse("\"" + bytes + "\"", nullptr, false);
    CHECK(valid_utf8(bytes) == !parsed.is_discarded());
  }
}

TEST_CASE("chat request scan: many members - and a repeat among the later ones", "[chat_request_scan]") {
  std::string text = R"({"model":"m","messages":[{"role":"user","content":"x"}])";
  for (int i = 0; i < 20; ++i) text += ",\"extra_member_number_" + std::to_string(i) + "\":" + std::to_string(i);
  auto plain = scan_plain_chat_request(text + "}");
  REQUIRE(plain);
  CHECK(plain->model == "m");
  CHECK_FALSE(scan_plain_chat_request(text + ",\"extra_member_number_17\":1}"));
  CHECK_FALSE(scan_plain_chat_request(text + ",\"model\":\"n\"}"));
}
