#include "views/analyses/samples_data.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "views/records/record_fields.h"

namespace ptq::views {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A continuation block {"text", "tokens", "probs"}; false when malformed.
bool readText(const nlohmann::json& j, SampleText* out) {
  if (!j.is_object() || !j.contains("tokens") || !j["tokens"].is_array()) return false;
  SampleText t;
  if (j.contains("text") && j["text"].is_string()) t.text = QString::fromStdString(j["text"].get<std::string>());
  for (const auto& tok : j["tokens"]) {
    if (!tok.is_string()) return false;
    t.tokens << QString::fromStdString(tok.get<std::string>());
  }
  const auto probs = j.find("probs");
  if (probs != j.end() && probs->is_array()) {
    if (probs->size() != size_t(t.tokens.size())) return false;
    for (const auto& p : *probs) t.probs.push_back(p.is_number() ? p.get<double>() : kNaN);
  } else {
    t.probs.assign(size_t(t.tokens.size()), kNaN);
  }
  if (t.text.isEmpty()) t.text = t.tokens.join(QString());
  *out = std::move(t);
  return true;
}

QString fmt(double v, int decimals) { return std::isnan(v) ? QString() : QString::number(v, 'f', decimals); }

double minProb(const SampleText& t) {
  double m = kNaN;
  for (double p : t.probs)
    if (!std::isnan(p)) m = std::isnan(m) ? p : std::min(m, p);
  return m;
}

}  // namespace

double SampleText::meanProb() const {
  double s = 0;
  int n = 0;
  for (double p : probs)
    if (!std::isnan(p)) s += p, ++n;
  return n ? s / n : kNaN;
}

const RunSample* SamplePrompt::of(int run) const {
  for (const auto& r : runs)
    if (r.run == run) return &r;
  return nullptr;
}

SamplesData collectSamples(const std::vector<nlohmann::json>& records) {
  SamplesData d;
  for (const auto& rec : records) {
    const auto& prompts = field(rec, "samples/prompts");
    if (!prompts.is_array() || prompts.empty()) continue;
    const int run = int(d.runs.size());
    bool any = false;
    for (const auto& e : prompts) {
      if (!e.is_object() || !e.contains("prompt") || !e["prompt"].is_string()) continue;
      SampleText fp, q;
      if (!readText(e.value("fp", nlohmann::json()), &fp) || !readText(e.value("quantized", nlohmann::json()), &q)) continue;
      const QString text = QString::fromStdString(e["prompt"].get<std::string>());
      auto it = std::find_if(d.prompts.begin(), d.prompts.end(), [&](const SamplePrompt& p) { return p.prompt == text; });
      if (it == d.prompts.end()) {
        d.prompts.push_back({text, fp, {}});
        it = d.prompts.end() - 1;
      }
      const auto& fd = e.value("first_divergence", nlohmann::json());
      // The first generated index that differs: at most the longer continuation's length (one may
      // be a prefix of the other).
      const int64_t longest = std::max(fp.tokens.size(), q.tokens.size());
      const int div = fd.is_number_integer() && fd.get<int64_t>() >= 0 && fd.get<int64_t>() <= longest ? int(fd.get<int64_t>()) : -1;
      it->runs.push_back({run, q, div});
      any = true;
    }
    if (!any) continue;
    if (d.runs.isEmpty()) d.maxNewTokens = int(field(rec, "samples/max_new_tokens").is_number_integer()
                                                   ? field(rec, "samples/max_new_tokens").get<int64_t>() : 0);
    d.runs << recordLabel(rec);
  }
  return d;
}

TextTable samplesTable(const SamplesData& d, const std::vector<int>& shownRuns) {
  TextTable t;
  t.headers = {"prompt", "run", "continuation", "tokens", "first divergence", "diverging token", "mean p", "min p"};
  for (const auto& p : d.prompts) {
    auto row = [&](const QString& run, const SampleText& s, int div) {
      const QString tok = div >= 0 && div < s.tokens.size() ? s.tokens[div] : QString();
      t.rows.push_back({p.prompt, run, s.text, QString::number(s.tokens.size()), div >= 0 ? QString::number(div) : QString(),
                        tok, fmt(s.meanProb(), 3), fmt(minProb(s), 3)});
    };
    row(QStringLiteral("full precision"), p.fp, -1);
    for (int r : shownRuns)
      if (const RunSample* s = p.of(r)) row(d.runs[r], s->text, s->firstDivergence);
  }
  return t;
}

}  // namespace ptq::views
