// CUDA checks (ctest label `gpu`): the same references as the CPU tests, on the GPU.
#include <ATen/ATen.h>
#include <cmath>
#include <ATen/core/grad_mode.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/runtime/device.h"
#include "core/records/json_util.h"
#include "core/model/fused_ops.h"
#include "core/model/model.h"
#include "core/io/safetensors.h"
#include "core/model/decode_state.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/engine_runner.h"
#include "eval/experiment/sweep_devices.h"
#include "tests/fixture_paths.h"
#include "eval/metrics/perplexity.h"
#include "quant/methods/gptq/gptq.h"
#include "quant/pipeline/output_error.h"
#include "quant/pipeline/pipeline.h"
#include "tests/check.h"

using namespace ptq;

namespace {

void parity_on_cuda(const std::string& name, Residency res) {
  at::NoGradGuard ng;
  std::string dir = test::shared_dir() + "/parity/" + name;
  SafetensorsFile ref(dir + "/reference.safetensors");
  LoadOptions lo;
  lo.device = "cuda";
  lo.residency = res;
  auto model = Model::load(dir, lo);
  at::Tensor logits = model->forward(ref.load("input_ids")).cpu();
  double d = (logits - ref.load("logits")).abs().max().item<double>();
  CHECK_MSG(d < 1e-4, name + ": max |diff| " + std::to_string(d));
}

double demo_ppl(const std::string& dtype, Residency res) {
  at::NoGradGuard ng;
  std::string dir = std::string(PTQ_SOURCE_DIR) + "/resources/demo-model";
  LoadOptions lo;
  lo.device = "cuda";
  lo.dtype = dtype;
  lo.residency = res;
  auto model = Model::load(dir, lo);
  auto ids = Tokenizer::from_file(dir + "/tokenizer.json")
                 .encode(read_text_file(std::string(PTQ_SOURCE_DIR) + "/resources/demo-text/austen-test.txt"));
  PplResult r = perplexity(*model, ids, PplOptions{512, 8, 0});
  CHECK(r.peak_gpu_bytes > 0);
  return r.ppl;
}

}  // namespace

namespace {
// Which column loop a CUDA GPTQ call may take: the kernel (when built), the CUDA graph, or eager.
enum class Loop { Kernel, Graph, Eager };

void choose_loop(Loop loop) {
  ::unsetenv("PTQ_NO_COLUMN_KERNEL");
  ::unsetenv("PTQ_NO_CUDA_GRAPH");
  if (loop != Loop::Kernel) ::setenv("PTQ_NO_COLUMN_KERNEL", "1", 1);
  if (loop == Loop::Eager) ::setenv("PTQ_NO_CUDA_GRAPH", "1", 1);
}

GptqResult gptq_cuda(const at::Tensor& W, const at::Tensor& H, const QuantSpec& s, Loop loop, bool act_order) {
  choose_loop(loop);
  GptqOptions o;
  o.act_order = act_order;
  GptqResult r = gptq_quantize(W.cuda(), H.cuda(), s, o);
  choose_loop(Loop::Kernel);
  return r;
}

#ifdef PTQ_WITH_CUDA_KERNELS
constexpr bool kColumnKernel = true;
#else
constexpr bool kColumnKernel = false;
#endif
}  // namespace

TEST_CASE("cuda GPTQ: the column kernel and the graph-captured loop equal the eager loop bit for bit") {
  at::manual_seed(0);
  // 1000 columns: seven full blocks of 128 and a partial one of 104 (the kernel's masked columns).
  const at::Tensor W = at::randn({384, 1000});
  const at::Tensor X = at::randn({4096, 1000}) * at::linspace(0.1, 3.0, 1000);
  const at::Tensor H = X.t().mm(X) / 4096.0;
  for (int64_t group : {int64_t(125), int64_t(40), int64_t(-1)})
    for (bool act : {false, true})
      for (bool sym : {false, true}) {
        QuantSpec s;
        s.bits = 3;
        s.group_size = group;
        s.symmetric = sym;
        const std::string what = "group " + std::to_string(group) + (act ? " act_order" : "") + (sym ? " sym" : "");
        GptqResult k = gptq_cuda(W, H, s, Loop::Kernel, act), g = gptq_cuda(W, H, s, Loop::Graph, act),
                   e = gptq_cuda(W, H, s, Loop::Eager, act);
        // The first full block runs eagerly while the graph is captured, the other 6 replay it, and the
        // partial block is eager. A capture that failed (and fell back to eager) fails here.
        const ColumnLoop& gl = g.column_loop;
        CHECK_MSG(gl.path() == "cuda_graph" && gl.graph_blocks == 6 && gl.eager_blocks == 2,
                  "graph path expected but not taken (" + std::to_string(gl.graph_blocks) + " graph, " +
                      std::to_string(gl.eager_blocks) + " eager blocks): " +
                      (gl.graph_error.empty() ? std::string("no capture error recorded") : gl.graph_error));
        CHECK(e.column_loop.path() == "eager" && e.column_loop.graph_blocks == 0 && e.column_loop.eager_blocks == 8);
        if (kColumnKernel)
          CHECK_MSG(k.column_loop.path() == "cuda_kernel" && k.column_loop.kernel_blocks == 8,
                    "kernel path expected: " + k.column_loop.kernel_error);
        for (const GptqResult* r : {&k, &g}) {
          CHECK_MSG(at::equal(r->q.codes.cpu(), e.q.codes.cpu()), "codes differ, " + what);
          CHECK_MSG(at::equal(r->weight.cpu(), e.weight.cpu()), "weights differ, " + what);
          CHECK_MSG(at::equal(r->row_loss.cpu(), e.row_loss.cpu()), "losses differ, " + what);
        }
        GptqResult c = gptq_quantize(W, H, s, GptqOptions{0.01, 128, act, false});
        const double agree = (c.q.codes == k.q.codes.cpu()).to(at::kFloat).mean().item<double>();
        std::printf("      %s: cuda vs cpu code agreement %.5f, loss %.3f vs %.3f\n", what.c_str(), agree, k.loss,
                    c.loss);
        CHECK(agree > 0.99);
      }
}

// The layer records of a CUDA GPTQ run say which column loop ran: blocksize 32 gives every layer
// of the llama fixture (64 or 128 input features) at least one replayed block.
// quantize_model with `q` on the llama fixture loaded on CUDA.
QuantResult quantize_llama_on_cuda(const QuantRequest& q) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/parity/llama";
  LoadOptions lo;
  lo.device = "cuda";
  auto model = Model::load(dir, lo);
  Tokenizer tok = Tokenizer::from_file(dir + "/tokenizer.json");
  return quantize_model(*model, &tok, q);
}

std::vector<std::string> gptq_loop_notes(Loop loop) {
  choose_loop(loop);
  QuantRequest q;
  q.method = "gptq";
  q.plan.spec.bits = 4;
  q.plan.spec.group_size = 32;
  q.params = {{"gptq.blocksize", 32}};
  q.calib.files = {test::shared_dir() + "/corpus/austen-valid.txt"};
  q.calib.nsamples = 4;
  q.calib.seqlen = 32;
  QuantResult r = quantize_llama_on_cuda(q);
  choose_loop(Loop::Kernel);
  std::vector<std::string> notes;
  for (const auto& l : r.layers)
    if (l.quantized) notes.push_back(l.note);
  return notes;
}

TEST_CASE("cuda GPTQ: layer records say which column loop ran (kernel, CUDA graph, eager)") {
  const auto kernel = gptq_loop_notes(Loop::Kernel), graph = gptq_loop_notes(Loop::Graph),
             eager = gptq_loop_notes(Loop::Eager);
  CHECK(!graph.empty() && graph.size() == eager.size() && kernel.size() == eager.size());
  const std::string k = kColumnKernel ? "gptq_column_loop: cuda_kernel" : "gptq_column_loop: cuda_graph";
  for (const auto& n : kernel) CHECK_MSG(n.find(k) != std::string::npos, n);
  for (const auto& n : graph) CHECK_MSG(n.find("gptq_column_loop: cuda_graph") != std::string::npos, n);
  for (const auto& n : eager) CHECK_MSG(n.find("gptq_column_loop: eager") != std::string::npos, n);
}

namespace {
// H of three bf16 batches by HessianAccumulator (tensor cores on or off) against float64 on the
// same bf16 values: relative Frobenius error.
double hessian_error(bool tensor_cores, at::ScalarType dt) {
  at::manual_seed(3);
  HessianAccumulator acc(512, at::Device(at::kCUDA));
  acc.set_tf32(tensor_cores);
  at::Tensor ref = at::zeros({512, 512}, at::kDouble);
  int64_t n = 0;
  for (int b = 0; b < 3; ++b) {
    const at::Tensor x = (at::randn({2, 1024, 512}) * 3).to(dt);
    acc.add(x.cuda());
    const at::Tensor xd = x.reshape({-1, 512}).to(at::kDouble);
    ref = ref * (double(n) / double(n + 2)) + xd.t().matmul(xd) * (2.0 / double(n + 2));
    n += 2;
  }
  CHECK(acc.samples() == n);
  return ((acc.H().cpu().to(at::kDouble) - ref).norm() / ref.norm()).item<double>();
}
}  // namespace

// bf16/fp16 inputs: the products are exact in float32, so only the float32 sums of 2048 terms round
// (about 1e-6 relative), as in the float32 path; TF32 rounds every scaled input to 11 significant bits,
// which leaves about 2e-4 on the Hessian.
TEST_CASE("cuda GPTQ Hessian: 16-bit inputs on tensor cores are as exact as float32, more than TF32") {
  for (at::ScalarType dt : {at::kBFloat16, at::kHalf}) {
    const double fast = hessian_error(true, dt), fp32 = hessian_error(false, dt);
    std::printf("      %s: H rel error %.3g (tensor cores), %.3g (float32)\n", c10::toString(dt), fast, fp32);
    CHECK_MSG(fast < 1e-5, std::string(c10::toString(dt)) + ": " + std::to_string(fast));
    CHECK_MSG(fp32 < 1e-5, std::string(c10::toString(dt)) + ": " + std::to_string(fp32));
  }
  // A float32 input keeps TF32's products: measurably coarser (the reason 16-bit inputs skip it).
  at::manual_seed(3);
  HessianAccumulator tf(512, at::Device(at::kCUDA));
  tf.set_tf32(true);
  const at::Tensor x = at::randn({2, 1024, 512}) * 3;
  tf.add(x.cuda());
  const at::Tensor xd = x.reshape({-1, 512}).to(at::kDouble);
  const at::Tensor ref = xd.t().matmul(xd);
  const double e = ((tf.H().cpu().to(at::kDouble) - ref).norm() / ref.norm()).item<double>();
  std::printf("      float32 input, TF32 products: H rel error %.3g\n", e);
  CHECK_MSG(e > 5e-5, std::to_string(e));
}

TEST_CASE("cuda is available") { CHECK(cuda_available()); }
TEST_CASE("cuda parity llama") { parity_on_cuda("llama", Residency::Resident); }
TEST_CASE("cuda parity llama3-rope") { parity_on_cuda("llama3-rope", Residency::Resident); }
TEST_CASE("cuda parity qwen2") { parity_on_cuda("qwen2", Residency::Resident); }
TEST_CASE("cuda parity mistral") { parity_on_cuda("mistral", Residency::Resident); }
TEST_CASE("cuda parity mixtral streamed") { parity_on_cuda("mixtral", Residency::Stream); }
// Second-wave architectures (issue 14): q/k norms, soft-caps and sandwich norms, fused projections.
TEST_CASE("cuda parity qwen3") { parity_on_cuda("qwen3", Residency::Resident); }
TEST_CASE("cuda parity gemma2 streamed") { parity_on_cuda("gemma2", Residency::Stream); }
TEST_CASE("cuda parity phi3") { parity_on_cuda("phi3", Residency::Resident); }
TEST_CASE("cuda parity qwen3-moe") { parity_on_cuda("qwen3-moe", Residency::Resident); }
TEST_CASE("cuda parity qwen2-moe streamed") { parity_on_cuda("qwen2-moe", Residency::Stream); }
TEST_CASE("cuda parity gemma3") { parity_on_cuda("gemma3", Residency::Resident); }
TEST_CASE("cuda parity gemma2 resident") { parity_on_cuda("gemma2", Residency::Resident); }
TEST_CASE("cuda parity mamba (chunked selective scan)") { parity_on_cuda("mamba", Residency::Resident); }
TEST_CASE("cuda parity mamba streamed") { parity_on_cuda("mamba", Residency::Stream); }
// DeepSeek-V3: latent attention (scaled SDPA on LibTorch >= 2.1), grouped sigmoid routing, shared expert.
TEST_CASE("cuda parity deepseek-v3") { parity_on_cuda("deepseek-v3", Residency::Resident); }
TEST_CASE("cuda parity deepseek-v3 streamed") { parity_on_cuda("deepseek-v3", Residency::Stream); }
// The demo model is austen-tiny; 96.485491 is transformers' float32 test PPL (its reference.json).
// 1e-4 relative: the CPU engine agrees to 2.5e-7 (test_perplexity); CUDA kernels sum in other orders.
constexpr double kDemoPpl = 96.485491;
TEST_CASE("cuda demo PPL float32 = 96.49") { CHECK_REL(demo_ppl("float32", Residency::Resident), kDemoPpl, 1e-4); }
TEST_CASE("cuda demo PPL float32 streamed = 96.49") { CHECK_REL(demo_ppl("float32", Residency::Stream), kDemoPpl, 1e-4); }
TEST_CASE("cuda demo PPL bfloat16 within 1%") { CHECK_REL(demo_ppl("bfloat16", Residency::Stream), kDemoPpl, 0.01); }

namespace {
// Greedy decoding on CUDA with the cache against recomputing the whole sequence each step (both on
// CUDA, float32): the same tokens, logits within 1e-4 (test_generate's bound and argument).
void cached_decoding_on_cuda(const std::string& name) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/parity/" + name;
  LoadOptions lo;
  lo.device = "cuda";
  auto m = Model::load(dir, lo);
  at::Tensor seq = SafetensorsFile(dir + "/reference.safetensors").load("input_ids").narrow(0, 0, 1).narrow(1, 0, 12).clone();
  DecodeState st;
  at::Tensor cached = m->forward_cached(seq.to(m->device()), st).select(1, seq.size(1) - 1).squeeze(0);
  for (int step = 0; step < 24; ++step) {
    const at::Tensor full = m->forward(seq).select(1, seq.size(1) - 1).squeeze(0);
    const double d = (cached.cpu() - full.cpu()).abs().max().item<double>();
    CHECK_MSG(d < 1e-4, name + " step " + std::to_string(step) + ": max |diff| " + std::to_string(d));
    const int64_t next = full.argmax().item<int64_t>();
    CHECK_MSG(cached.argmax().item<int64_t>() == next, name + " step " + std::to_string(step) + ": tokens differ");
    seq = at::cat({seq, at::full({1, 1}, next, at::kLong)}, 1);
    cached = m->forward_cached(at::full({1, 1}, next, at::TensorOptions().dtype(at::kLong).device(m->device())), st)
                 .select(1, 0)
                 .squeeze(0);
  }
}

// N GPUs simulated by two workers on cuda:0: the device pool runs two runs at once on the GPU, and
// every record equals the one the sequential sweep writes (same PPL to the last bit: the same
// kernels on the same data).
void device_pool_on_one_gpu() {
  std::vector<ExperimentSpec> runs;
  for (int bits : {3, 4, 8}) {
    ExperimentSpec s;
    s.model_dir = std::string(PTQ_SOURCE_DIR) + "/resources/demo-model";
    s.method = "rtn";
    s.plan.spec.bits = bits;
    s.eval_text = std::string(PTQ_SOURCE_DIR) + "/resources/demo-text/austen-test.txt";
    s.eval_seqlen = 256;
    s.eval_max_windows = 8;
    s.device = "cuda:0";
    runs.push_back(s);
  }
  Feedback fb;
  const std::string seq_dir = test::temp_dir("gpu-seq"), pool_dir = test::temp_dir("gpu-pool");
  SweepSummary a = run_sweep(runs, seq_dir, engine_runner(), SweepOptions{}, fb);
  SweepSummary b = run_sweep_on_devices(runs, pool_dir, {{"cuda:0", engine_runner("cuda:0")}, {"cuda:0", engine_runner("cuda:0")}},
                                        SweepOptions{}, fb);
  CHECK_MSG(a.done == 3 && b.done == 3, a.to_json().dump() + " " + b.to_json().dump());
  for (const auto& s : runs) {
    const auto ra = nlohmann::json::parse(read_text_file(seq_dir + "/" + s.run_id() + ".json"));
    const auto rb = nlohmann::json::parse(read_text_file(pool_dir + "/" + s.run_id() + ".json"));
    CHECK_MSG(ra["metrics"]["ppl"] == rb["metrics"]["ppl"], s.run_id() + ": " + ra["metrics"]["ppl"].dump() + " vs " + rb["metrics"]["ppl"].dump());
  }
}
}  // namespace

TEST_CASE("cuda cached decoding llama") { cached_decoding_on_cuda("llama"); }
TEST_CASE("cuda cached decoding gemma2 (sliding window, soft-caps)") { cached_decoding_on_cuda("gemma2"); }
TEST_CASE("cuda cached decoding mamba (recurrent state)") { cached_decoding_on_cuda("mamba"); }
TEST_CASE("cuda cached decoding deepseek-v3 (latent attention)") { cached_decoding_on_cuda("deepseek-v3"); }
TEST_CASE("cuda device pool: two workers on one GPU write the sequential records") { device_pool_on_one_gpu(); }

TEST_MAIN()

namespace {
// A model split across the GPU and the CPU (the blocks that do not fit run on the CPU): the hidden
// state really changes device between blocks. Logits against the parity reference within 1e-4, the
// bound parity_on_cuda holds for CUDA alone (the CPU half agrees to 1e-5, test_parity).
void split_gpu_cpu(const std::string& name) {
  at::NoGradGuard ng;
  const std::string dir = test::shared_dir() + "/parity/" + name;
  SafetensorsFile ref(dir + "/reference.safetensors");
  LoadOptions lo;
  lo.split_devices = {"cuda:0", "cpu"};
  auto model = Model::load(dir, lo);
  CHECK(model->block_device(0).is_cuda() && model->block_device(model->num_blocks() - 1).is_cpu());
  const double d = (model->forward(ref.load("input_ids")).cpu() - ref.load("logits")).abs().max().item<double>();
  CHECK_MSG(d < 1e-4, name + " split cuda:0,cpu: max |diff| " + std::to_string(d));
}
}  // namespace

TEST_CASE("cuda split across cuda:0 and cpu: llama") { split_gpu_cpu("llama"); }
TEST_CASE("cuda split across cuda:0 and cpu: mamba") { split_gpu_cpu("mamba"); }

namespace {
// The same GPTQ or AWQ run with the calibration activations on the GPU and staged in pinned host
// memory: the arithmetic is the same, so every record and every code must be equal, not close.
QuantResult staged_run(const std::string& method, CalibStaging st, const nlohmann::json& params) {
  QuantRequest q;
  q.method = method;
  q.params = params;
  q.plan.spec.bits = 4;
  q.plan.spec.group_size = 32;
  q.calib.files = {test::shared_dir() + "/corpus/austen-valid.txt"};
  q.calib.nsamples = 8;
  q.calib.seqlen = 64;
  q.calib_batch = 2;
  q.calib_staging = st;
  return quantize_llama_on_cuda(q);
}

void staging_changes_nothing(const std::string& method, const nlohmann::json& params = nlohmann::json::object()) {
  QuantResult d = staged_run(method, CalibStaging::Device, params), h = staged_run(method, CalibStaging::Host, params);
  CHECK(d.calib_staging == CalibStaging::Device && h.calib_staging == CalibStaging::Host);
  CHECK(d.layers.size() == h.layers.size() && d.blocks.size() == h.blocks.size());
  for (size_t i = 0; i < d.layers.size() && i < h.layers.size(); ++i) {
    CHECK_MSG(test::same_record_value(d.layers[i].out_rel_mse, h.layers[i].out_rel_mse) &&
                  test::same_record_value(d.layers[i].method_loss, h.layers[i].method_loss),
              method + " " + params.dump() + " " + d.layers[i].name + ": records differ between device and host staging (" +
                  std::to_string(d.layers[i].out_rel_mse) + " vs " + std::to_string(h.layers[i].out_rel_mse) + "; " +
                  d.layers[i].note + " | " + h.layers[i].note + ")");
    const auto& qd = d.quantized.at(d.layers[i].name);
    CHECK_MSG(at::equal(qd.codes, h.quantized.at(d.layers[i].name).codes), d.layers[i].name + ": codes differ");
  }
  for (size_t b = 0; b < d.blocks.size() && b < h.blocks.size(); ++b) CHECK(d.blocks[b].out_rel_mse == h.blocks[b].out_rel_mse);
}
}  // namespace

TEST_CASE("cuda GPTQ: host-staged calibration gives the device-staged records exactly") { staging_changes_nothing("gptq"); }
TEST_CASE("cuda AWQ: host-staged calibration gives the device-staged records exactly") {
  staging_changes_nothing("awq", {{"awq.search_tf32", false}});
  staging_changes_nothing("awq", {{"awq.search_tf32", true}});
}


namespace {
at::Tensor eager_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {  // apply_rope's operations
  const int64_t half = x.size(-1) / 2;
  at::Tensor rot = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rot * sin;
}
at::Tensor eager_rms_norm(const at::Tensor& x, const at::Tensor& w, double eps) {  // rms_norm's operations
  at::Tensor h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, true) + eps);
  return w * h.to(x.scalar_type());
}
}  // namespace

TEST_CASE("cuda fused rope and silu_mul equal the LibTorch operations bit for bit; fused RMSNorm within its rounding") {
  at::NoGradGuard ng;
  at::manual_seed(0);
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16, at::kHalf}) {
    const auto o = at::TensorOptions().device(at::kCUDA).dtype(dt);
    // q as the attention has it: [B, T, H, D] transposed to [B, H, T, D] (not contiguous).
    // Also contiguous [B, H, T, D], and a head size whose half is not a multiple of 32 (96: Phi-3). These
    // take the 16-byte kernel; a head size of 20 (half not a multiple of 8) and rows 65 elements apart
    // (unaligned) take the scalar one.
    const at::Tensor cos = at::randn({37, 64}, o), sin = at::randn({37, 64}, o);
    const at::Tensor cos96 = at::randn({37, 96}, o), sin96 = at::randn({37, 96}, o);
    const at::Tensor cos20 = at::randn({37, 20}, o), sin20 = at::randn({37, 20}, o);
    const std::vector<std::array<at::Tensor, 3>> cases = {
        {at::randn({2, 37, 4, 64}, o).transpose(1, 2), cos, sin},
        {at::randn({2, 4, 37, 64}, o), cos, sin},
        {at::randn({1, 37, 3, 96}, o).transpose(1, 2), cos96, sin96},
        {at::randn({2, 37, 3, 20}, o).transpose(1, 2), cos20, sin20},
        {at::randn({2, 4, 37, 65}, o).narrow(-1, 0, 64), cos, sin}};
    for (const auto& c : cases) {
      const at::Tensor f = fused_rope(c[0], c[1], c[2]);
      CHECK(f.defined() == kColumnKernel);
      if (!f.defined()) continue;
      const at::Tensor e = eager_rope(c[0], c[1], c[2]);
      CHECK_MSG(at::equal(f, e), std::string("rope differs: ") + c10::toString(dt));
      if (c[0].is_non_overlapping_and_dense())  // empty_like keeps a dense layout (a narrowed x gets a contiguous one)
        CHECK_MSG(f.strides() == c[0].strides(), std::string("rope output not in x's layout: ") + c10::toString(dt));
    }
    // The gated MLP's silu(g)·u: the same two roundings as LibTorch's kernels, with a tail past the last
    // 16-byte chunk (7001 elements a row).
    const at::Tensor gate = at::randn({3, 7, 7001}, o) * 4, up = at::randn({3, 7, 7001}, o);
    const at::Tensor sm = fused_silu_mul(gate, up);
    CHECK(sm.defined() == kColumnKernel);
    if (sm.defined()) CHECK_MSG(at::equal(sm, at::silu(gate) * up), std::string("silu_mul differs: ") + c10::toString(dt));
    // 4096 columns take the 16-byte kernel, 4097 the scalar one.
    for (int64_t cols : {4096, 4097}) {
      const at::Tensor h = at::randn({3, 5, cols}, o) * 3, w = at::randn({cols}, o);
      const at::Tensor g = fused_rms_norm(h, w, 1e-5);
      CHECK(g.defined() == kColumnKernel);
      if (!g.defined()) break;
      // The residual sum and the next norm in one pass: the sum bitwise LibTorch's add, the norm that of
      // the fused norm of the sum.
      const at::Tensor res = at::randn({3, 5, cols}, o) * 2;
      const auto rn = fused_add_rms_norm(h, res, w, 1e-5);
      CHECK(rn.first.defined());
      if (rn.first.defined()) {
        CHECK_MSG(at::equal(rn.first, h + res), std::string("add_rms_norm sum differs: ") + c10::toString(dt));
        CHECK_MSG(at::equal(rn.second, fused_rms_norm(h + res, w, 1e-5)), std::string("add_rms_norm norm differs: ") + c10::toString(dt));
      }
      const at::Tensor e = eager_rms_norm(h, w, 1e-5);
      // Only the mean's summation order differs: float32 to a few ulps; in 16 bits, a rounding flips
      // to the neighbouring value in a small fraction of elements.
      const double rel = ((g.to(at::kFloat) - e.to(at::kFloat)).abs() / e.to(at::kFloat).abs().clamp_min(1e-3)).max().item<double>();
      const double same = (g == e).to(at::kFloat).mean().item<double>();
      std::printf("      %s, %lld columns: rms_norm max rel diff %.3g, equal %.5f\n", c10::toString(dt), (long long)cols, rel, same);
      CHECK(rel <= (dt == at::kFloat ? 1e-6 : dt == at::kBFloat16 ? 1.0 / 64 : 1.0 / 512));
      if (dt != at::kFloat) CHECK(same >= 0.99);  // float32 keeps the last bits of a different sum
    }
  }
}

// The per-layer output error's sums in one kernel against LibTorch's operations on the same outputs. Both
// sum float32 terms: each row's sums run at most cols / 256 + 13 steps deep in the kernel (a thread's
// share, then the warp and block trees), LibTorch's tree over all elements is deeper, and every term is
// positive, so each side is within ~64 · 2^-24 of the exact sum for these sizes: 2e-5 relative bounds
// both together with room. The cosine sum's terms are each within a few ulps.
TEST_CASE("cuda output error sums in one pass equal LibTorch's to float32 summation rounding") {
  at::NoGradGuard ng;
  at::manual_seed(1);
  for (at::ScalarType dt : {at::kFloat, at::kBFloat16, at::kHalf})
    for (int64_t cols : {4096, 11008, 1000}) {
      const auto o = at::TensorOptions().device(at::kCUDA).dtype(dt);
      const at::Tensor y = at::randn({777, cols}, o), q = (y.to(at::kFloat) + 0.05 * at::randn({777, cols}, o.dtype(at::kFloat))).to(dt);
      const at::Tensor s = output_error_sums(q, y).cpu();
      const at::ScalarType f = at::kFloat;
      const double err = at::norm(q - y, 2, f).pow(2).item<double>(), ref = at::norm(y, 2, f).pow(2).item<double>();
      const at::Tensor dot = at::sum(q.to(f) * y.to(f), {1});
      const double cos = (dot / (at::norm(q, 2, {1}, false, f) * at::norm(y, 2, {1}, false, f)).clamp_min(1e-8)).sum().item<double>();
      const double want[3] = {err, ref, cos};
      for (int k = 0; k < 3; ++k) {
        const double rel = std::abs(s[k].item<double>() - want[k]) / std::abs(want[k]);
        CHECK_MSG(rel < 2e-5, std::string("output error sum ") + std::to_string(k) + " of " + c10::toString(dt) + " cols " +
                                  std::to_string(cols) + ": relative difference " + std::to_string(rel));
      }
    }
}
