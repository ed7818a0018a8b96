#include "views/panels/run_check.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <cmath>

#include "core/runtime/errors.h"
#include "core/text/tokenizer.h"
#include "eval/experiment/experiment_spec.h"
#include "quant/pipeline/plan_check.h"
#include "quant/strategy_registry.h"
#include "views/records/record_fields.h"

namespace ptq::views {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

bool calibrates(const ptq::ExperimentSpec& s) { return !s.calib.files.empty(); }

QString tokensText(double n) {
  if (n >= 1e6) return QStringLiteral("%1 M").arg(n / 1e6, 0, 'f', 1);
  if (n >= 1e3) return QStringLiteral("%1 k").arg(n / 1e3, 0, 'f', 1);
  return QString::number(int64_t(n));
}

// How alike an earlier record is: 2 same model and method, 1 same model, 0 other.
int similarity(const nlohmann::json& r, const ptq::ExperimentSpec& s) {
  const QString model = text(r, "spec/model");
  const QString want = qs(s.model_dir);
  const bool sameModel = !model.isEmpty() && (QFileInfo(model).absoluteFilePath() == QFileInfo(want).absoluteFilePath() ||
                                              QFileInfo(model).fileName() == QFileInfo(want).fileName());
  if (!sameModel || text(r, "status") != "complete" || std::isnan(number(r, "metrics/seconds/total"))) return 0;
  return text(r, "spec/method") == qs(s.method) ? 2 : 1;
}

// The most similar complete record, the newest of equals; nullptr when none is of the same model.
const nlohmann::json* mostSimilar(const std::vector<nlohmann::json>& records, const ptq::ExperimentSpec& s) {
  const nlohmann::json* best = nullptr;
  int bestScore = 0;
  for (const auto& r : records) {
    const int score = similarity(r, s);
    if (score > bestScore || (score == bestScore && score > 0 && text(r, "created_at") > text(*best, "created_at"))) {
      best = &r;
      bestScore = score;
    }
  }
  return best;
}

}  // namespace

QString checkRunAgainstModel(const ptq::ExperimentSpec& spec, const ptq::ModelSummary& model) {
  if (spec.method == "fp") return {};
  std::vector<ptq::PlannedLinear> layers;
  for (const auto& l : model.linears) layers.push_back({l.name, l.type, l.in_features});
  try {
    const auto stages = ptq::parse_method(spec.method);
    const bool ownGroups = !stages.empty() && stages.back()->own_grouping;  // as the pipeline's validate_request
    ptq::validate_plan_for_layers(spec.plan, layers, ownGroups);
    spec.kv.validate_for(model.config);
  } catch (const std::exception& e) {
    return QObject::tr("does not fit %1: %2").arg(QFileInfo(qs(model.dir)).fileName(), QString::fromUtf8(e.what()));
  }
  return {};
}

QString missingInputFiles(const ptq::ExperimentSpec& s) {
  auto missing = [](const std::string& p) { return !QFileInfo(qs(p)).isFile(); };
  for (const auto& f : s.calib.files)
    if (missing(f)) return QObject::tr("calibration text '%1' does not exist").arg(qs(f));
  if (!s.eval_text.empty() && missing(s.eval_text)) return QObject::tr("eval text '%1' does not exist").arg(qs(s.eval_text));
  for (const auto& f : s.task_files)
    if (missing(f)) return QObject::tr("task file '%1' does not exist").arg(qs(f));
  return {};
}

int64_t countTokens(const QString& tokenizerPath, const QString& textPath) {
  struct Cached {
    qint64 size;
    QDateTime modified;
    int64_t tokens;
  };
  static std::map<QString, Cached> cache;
  const QFileInfo text(textPath);
  if (tokenizerPath.isEmpty() || !text.isFile() || !QFileInfo(tokenizerPath).isFile()) return -1;
  const QString key = tokenizerPath + '\n' + text.absoluteFilePath();
  auto it = cache.find(key);
  if (it != cache.end() && it->second.size == text.size() && it->second.modified == text.lastModified()) return it->second.tokens;
  QFile f(textPath);
  if (!f.open(QIODevice::ReadOnly)) return -1;
  // Past 8 MB the first 8 MB are tokenized and the count scaled by size (a hint, not a count).
  constexpr qint64 kSample = 8 << 20;
  const QByteArray bytes = f.read(kSample);
  int64_t n = -1;
  try {
    n = int64_t(ptq::Tokenizer::from_file(tokenizerPath.toStdString()).encode(bytes.toStdString()).size());
  } catch (const std::exception&) {
    return -1;
  }
  if (text.size() > kSample) n = int64_t(double(n) * double(text.size()) / double(bytes.size()));
  cache[key] = {text.size(), text.lastModified(), n};
  return n;
}

CostEstimate estimateCost(const ptq::ExperimentSpec& s, const ptq::ModelSummary* model,
                          const std::vector<nlohmann::json>& records) {
  CostEstimate e;
  if (calibrates(s)) {
    e.calibSamples = s.calib.nsamples;
    e.calibSeqlen = s.calib.seqlen;
    e.calibTokens = s.calib.nsamples * s.calib.seqlen;
  }
  if (model) {
    e.blocks = int(model->config.num_layers);
    e.linears = int(model->linears.size());
    if (!s.eval_text.empty()) {
      const int64_t n = countTokens(qs(model->tokenizer), qs(s.eval_text));
      if (n >= 0) {
        int64_t windows = n / std::max<int64_t>(1, s.eval_seqlen);
        if (s.eval_max_windows > 0) windows = std::min(windows, s.eval_max_windows);
        e.evalTokens = windows * s.eval_seqlen;
      }
    }
  }
  const nlohmann::json* r = mostSimilar(records, s);
  if (!r) return e;
  const double total = number(*r, "metrics/seconds/total");
  auto secondsOf = [&](const char* key) {
    const double v = number(*r, (std::string("metrics/seconds/") + key).c_str());
    return std::isnan(v) ? 0.0 : v;
  };
  // What runs the calibration windows (the quantizer, kurtosis and token_kl on them) scales with
  // the calibration tokens, the evaluation and the other analyses with the evaluation tokens; a
  // part the earlier run did not have is not guessed (the basis says so).
  const double load = secondsOf("load");
  double calibPart = secondsOf("kurtosis") + secondsOf("token_kl");
  if (s.method != "fp") calibPart += secondsOf("quantize");
  const double rest = std::max(0.0, total - load - secondsOf("quantize") - secondsOf("kurtosis") - secondsOf("token_kl"));
  const double calibThen = number(*r, "calibration/tokens"), evalThen = number(*r, "metrics/eval/tokens");
  const bool calibScaled = calibThen > 0 && e.calibTokens > 0;
  const double q = calibScaled ? calibPart * double(e.calibTokens) / calibThen : calibPart;
  const double ev = evalThen > 0 && e.evalTokens >= 0 ? rest * double(e.evalTokens) / evalThen : rest;
  e.seconds = load + q + ev;
  const QString unscaled = e.calibTokens > 0 && !calibScaled ? QObject::tr("; it did not calibrate, so the calibration is not scaled in")
                                                              : QString();
  e.basis = QObject::tr("scaled from %1 (%2, %3)")
                .arg(text(*r, "run_id").section('.', 0, 1), durationText(total),
                     similarity(*r, s) == 2 ? QObject::tr("same model and method") : QObject::tr("same model, method %1").arg(text(*r, "spec/method"))) +
            unscaled;
  return e;
}

QString durationText(double s) {
  if (s < 0) return {};
  if (s < 60) return QStringLiteral("%1 s").arg(std::max(1, int(std::lround(s))));
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(int(s) / 60).arg(int(s) % 60);
  return QStringLiteral("%1 h %2 min").arg(int(s) / 3600).arg((int(s) % 3600) / 60);
}

QString costHintText(const CostEstimate& e) {
  QStringList parts;
  const QString through = e.blocks > 0 ? QObject::tr(" through %1 blocks (%2 layers)").arg(e.blocks).arg(e.linears) : QString();
  if (e.calibTokens > 0)
    parts << QObject::tr("calibration %1 × %2 = %3 tokens%4")
                 .arg(e.calibSamples).arg(e.calibSeqlen).arg(tokensText(double(e.calibTokens)), through);
  if (e.evalTokens >= 0) parts << QObject::tr("evaluation %1 tokens").arg(tokensText(double(e.evalTokens)));
  if (e.seconds >= 0) parts << QObject::tr("about %1, %2").arg(durationText(e.seconds), e.basis);
  else parts << QObject::tr("no earlier run of this model in the results folder to time it by");
  return QObject::tr("Cost: ") + parts.join(QStringLiteral(" · "));
}

ptq::ExperimentSpec workbenchDefaultSpec() {
  ptq::ExperimentSpec s;
  s.calib.nsamples = 32;
  s.calib.seqlen = 512;
  s.eval_seqlen = 512;
  s.eval_max_windows = 40;
  return s;
}

const ptq::ModelSummary* ModelSummaries::get(const QString& dir, QString* error) {
  if (!reader_ || dir.isEmpty()) return nullptr;
  auto it = cache_.find(dir);
  if (it == cache_.end()) {
    Entry e;
    try {
      e.summary = reader_(dir.toStdString());
    } catch (const std::exception& ex) {
      e.error = QString::fromUtf8(ex.what());
    }
    it = cache_.emplace(dir, std::move(e)).first;
  }
  if (!it->second.summary && error) *error = it->second.error;
  return it->second.summary ? &*it->second.summary : nullptr;
}

}  // namespace ptq::views
