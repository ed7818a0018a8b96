// A model split across devices for evaluation (LoadOptions::split_devices, core/model/block_split.h):
// the byte-balanced assignment of blocks, the device list, and a split model's logits, perplexity
// and cached decoding, which equal the unsplit model's exactly on "cpu,cpu" (the same kernels run;
// only the hand-over between blocks is added). A GPU split is a gpu case in test_gpu.cpp.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/model/block_split.h"
#include "core/model/decode_state.h"
#include "core/model/model.h"
#include "core/records/json_util.h"
#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/metrics/perplexity.h"
#include "quant/kvcache/kv_cache_quantizer.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"
#include "tests/fixture_paths.h"

using namespace ptq;

namespace {

struct SplitCase {
  std::vector<int64_t> blocks;
  int64_t extra;
  int n;
  std::vector<int> expect;
};

std::unique_ptr<Model> load_split(const std::vector<std::string>& devices) {
  LoadOptions lo;
  lo.split_devices = devices;
  return Model::load(test::tiny(), lo);
}

std::vector<int64_t> first_tokens(int64_t n) {
  Tokenizer tok = Tokenizer::from_file(test::tiny() + "/tokenizer.json");
  std::vector<int64_t> ids = tok.encode(read_text_file(test::corpus("austen-test.txt")));
  ids.resize(size_t(n));
  return ids;
}

}  // namespace

TEST_CASE("split_blocks: contiguous runs balanced by bytes, the shared tensors counted on the first device") {
  const std::vector<SplitCase> cases = {
      {{10, 10, 10, 10}, 0, 2, {0, 0, 1, 1}},             // equal halves
      {{10, 10, 10, 10}, 20, 2, {0, 1, 1, 1}},            // embedding + head weigh two blocks
      {{10, 10, 10, 10, 10, 10}, 0, 3, {0, 0, 1, 1, 2, 2}},
      {{10, 10, 10}, 0, 3, {0, 1, 2}},                    // one block each
      {{1, 1, 1}, 1000, 3, {0, 1, 2}},                    // no device left empty
      {{10, 10, 10, 10}, 0, 1, {0, 0, 0, 0}},
      {{50, 10, 10, 10}, 0, 2, {0, 1, 1, 1}},             // a heavy first block
  };
  for (const auto& c : cases) CHECK(split_blocks(c.blocks, c.extra, c.n) == c.expect);
  CHECK_THROWS_WITH(split_blocks({10, 10}, 0, 3), "at most one device per block");
  CHECK_THROWS_WITH(split_blocks({10, 10}, 0, 0), "at least one device");
}

TEST_CASE("--split-devices: canonical names, at least two, CPU allowed beside CUDA, bad entries named") {
  CHECK(parse_split_devices("cuda,cuda:1") == std::vector<std::string>({"cuda:0", "cuda:1"}));
  CHECK(parse_split_devices("cuda:0,cpu") == std::vector<std::string>({"cuda:0", "cpu"}));
  CHECK(parse_split_devices("cpu,cpu") == std::vector<std::string>({"cpu", "cpu"}));
  CHECK_THROWS_WITH(parse_split_devices("cuda:0"), "a split needs at least two");
  CHECK_THROWS_WITH(parse_split_devices("cuda:0,,cuda:1"), "empty entry");
  CHECK_THROWS_WITH(parse_split_devices("auto,cpu"), "not 'auto'");
  CHECK_THROWS_WITH(parse_split_devices("cuda:0,tpu"), "tpu");
}

TEST_CASE("a model split on cpu,cpu gives the unsplit model's logits, perplexity and cached decoding exactly") {
  at::NoGradGuard ng;
  auto whole = Model::load(test::tiny());
  auto split = load_split({"cpu", "cpu"});
  CHECK(split->split() && !whole->split());
  for (int i = 0; i < split->num_blocks(); ++i) CHECK(split->block_device(i) == at::Device(at::kCPU));
  const std::vector<int64_t> ids = first_tokens(192);
  at::Tensor x = at::tensor(ids, at::kLong).view({3, 64});
  CHECK(at::equal(split->forward(x), whole->forward(x)));
  PplOptions po;
  po.seqlen = 64;
  po.batch = 2;
  CHECK(perplexity(*split, ids, po).ppl == perplexity(*whole, ids, po).ppl);
  DecodeState a, b;
  at::Tensor prompt = x.slice(0, 0, 1).narrow(1, 0, 16), next = x.slice(0, 0, 1).narrow(1, 16, 1);
  CHECK(at::equal(split->forward_cached(prompt, a), whole->forward_cached(prompt, b)));
  CHECK(at::equal(split->forward_cached(next, a), whole->forward_cached(next, b)));
}

TEST_CASE("a split model refuses streaming, quantization and a quantized KV cache, naming why") {
  LoadOptions lo;
  lo.split_devices = {"cpu", "cpu"};
  lo.residency = Residency::Stream;
  CHECK_THROWS_WITH(Model::load(test::tiny(), lo), "--residency stream and --split-devices exclude each other");
  auto m = load_split({"cpu", "cpu"});
  QuantRequest q;
  CHECK_THROWS_WITH(quantize_model(*m, nullptr, q), "split across devices (--split-devices) is for evaluation");
  KvCacheSpec kv;
  kv.bits = 4;
  CHECK_THROWS_WITH(m->set_kv_cache(make_kv_cache_quantizer(kv, m->config())), "full-precision KV cache");
  CHECK_THROWS_WITH(load_split({"cpu", "cpu", "cpu", "cpu", "cpu"}), "cannot split 4 blocks across 5 devices");
}
