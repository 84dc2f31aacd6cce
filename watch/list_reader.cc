#include "watch/list_reader.h"

#include <nlohmann/json.hpp>

#include "watch/decoder.h"

namespace hnsproxy::watch {

using nlohmann::json;

namespace {

// A JSON tree built from parser events, as nlohmann's own parser builds it (a later duplicate key
// replaces the earlier value; non-negative integers are unsigned).
class TreeBuilder {
 public:
  explicit TreeBuilder(json& root) : root_(root) {}
  void value(json v) { place(std::move(v)); }
  void startObject() { open_.push_back(place(json::object())); }
  void startArray() { open_.push_back(place(json::array())); }
  void end() { open_.pop_back(); }
  void key(std::string& k) { key_ = std::move(k); }

 private:
  // Only the innermost open container grows; the pointers to the outer ones stay valid (an
  // array's elements move only when it grows, and its open element is its last).
  json* place(json v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& in = *open_.back();
    if (in.is_array()) {
      in.push_back(std::move(v));
      return &in.back();
    }
    json& slot = in[key_];
    slot = std::move(v);
    return &slot;
  }
  json& root_;
  std::vector<json*> open_;
  std::string key_;
};

class ListSax final : public nlohmann::json_sax<json> {
 public:
  ListSax(std::string_view kind, const ListItemFn& onItem) : kind_(kind), onItem_(onItem) {}
  json root;

  bool null() override { return leaf(nullptr, [](EndpointsReader& r) { return r.null(); }); }
  bool boolean(bool v) override { return leaf(v, [v](EndpointsReader& r) { return r.boolean(v); }); }
  bool number_integer(number_integer_t v) override { return leaf(v, [](EndpointsReader& r) { return r.number(); }); }
  bool number_unsigned(number_unsigned_t v) override { return leaf(v, [](EndpointsReader& r) { return r.number(); }); }
  bool number_float(number_float_t v, const string_t&) override {
    return leaf(v, [](EndpointsReader& r) { return r.number(); });
  }
  bool string(string_t& v) override {
    if (eps_) return going(eps_->string(v));
    if (depth_ == 0 || (depth_ == 2 && inItems_)) return false;  // a scalar document, or item
    if (depth_ == 3 && inItems_ && itemKey_ == "kind" && kind_.empty()) itemKind_ = v;
    builder().value(std::move(v));
    return true;
  }
  bool binary(binary_t&) override { return false; }  // not in JSON text
  bool key(string_t& k) override {
    if (eps_) return going(eps_->key(k));
    if (depth_ == 1) {
      if (k == "items" && itemsSeen_) return false;  // the tree keeps the last "items" only
      itemsSeen_ = itemsSeen_ || k == "items";
      rootKey_ = k;
    }
    if (depth_ == 3 && inItems_) {
      if (k == "kind" && streamed_ && kind_.empty()) return false;  // the endpoints were streamed for another kind
      itemKey_ = k;
      if (k == "endpoints") streamed_.reset();  // a later "endpoints" replaces the earlier
    }
    builder().key(k);
    return true;
  }
  bool start_object(std::size_t) override {
    if (eps_) return going(eps_->startObject());
    if (depth_ == 0) {
      rootBuilder_.startObject();
    } else if (depth_ == 2 && inItems_) {  // an item
      item_ = json();
      itemBuilder_.emplace(item_);
      itemBuilder_->startObject();
      itemKind_ = kind_;
      itemKey_.clear();
    } else {
      builder().startObject();
    }
    ++depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (eps_) return going(eps_->startArray());
    if (depth_ == 0) return false;  // not a list object
    if (depth_ == 2 && inItems_) return false;  // an item that is not an object
    if (depth_ == 1 && rootKey_ == "items") {
      rootBuilder_.startArray();  // the document keeps an empty "items"
      rootBuilder_.end();
      inItems_ = true;
    } else if (depth_ == 3 && inItems_ && itemKey_ == "endpoints" && itemKind_ == "EndpointSlice") {
      itemBuilder_->startArray();  // the item keeps an empty "endpoints"
      itemBuilder_->end();
      eps_.emplace();
      return true;  // the reader follows the array's depth until its end
    } else {
      builder().startArray();
    }
    ++depth_;
    return true;
  }
  bool end_object() override {
    if (eps_) return going(eps_->end());
    --depth_;
    if (depth_ != 2 || !inItems_) {
      builder().end();
      return true;
    }
    itemBuilder_->end();  // an item: handed over, then dropped
    std::vector<policy::Endpoint>* endpoints = streamed_ ? &streamed_->endpoints() : nullptr;
    bool more = onItem_(item_, endpoints);
    itemBuilder_.reset();
    item_ = json();
    streamed_.reset();
    return more;
  }
  bool end_array() override {
    if (eps_) return going(eps_->end());
    --depth_;
    if (depth_ == 1 && inItems_) {
      inItems_ = false;
      return true;
    }
    builder().end();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  template <typename V, typename F>
  bool leaf(V v, F toReader) {
    if (eps_) return going(toReader(*eps_));
    if (depth_ == 0 || (depth_ == 2 && inItems_)) return false;  // a scalar document, or item
    builder().value(json(v));
    return true;
  }
  // The endpoints reader's answer: go on while it reads; when it is done, its endpoints wait for
  // the item's end.
  bool going(EndpointsReader::State s) {
    if (s == EndpointsReader::State::Failed) return false;
    if (s == EndpointsReader::State::Done) {
      streamed_ = std::move(eps_);
      eps_.reset();
    }
    return true;
  }
  TreeBuilder& builder() { return depth_ >= 3 && inItems_ ? *itemBuilder_ : rootBuilder_; }

  std::string_view kind_;
  const ListItemFn& onItem_;
  TreeBuilder rootBuilder_{root};
  json item_;
  std::optional<TreeBuilder> itemBuilder_;
  std::optional<EndpointsReader> eps_;       // reading an item's endpoints
  std::optional<EndpointsReader> streamed_;  // the item's endpoints, read
  int depth_ = 0;                            // containers open (the endpoints' own not counted)
  bool inItems_ = false;
  bool itemsSeen_ = false;
  std::string rootKey_, itemKey_, itemKind_;
};

}  // namespace

std::optional<json> readListItems(std::string_view text, std::string_view kind, const ListItemFn& onItem) {
  ListSax sax(kind, onItem);
  if (!json::sax_parse(text.begin(), text.end(), &sax) || !sax.root.is_object()) return std::nullopt;
  return std::move(sax.root);
}

}  // namespace hnsproxy::watch
