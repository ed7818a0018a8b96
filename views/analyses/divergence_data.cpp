#include "views/analyses/divergence_data.h"

#include <QFileInfo>
#include <algorithm>
#include <cmath>

namespace ptq::views {

namespace {

double numberOr(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : NAN; }

}  // namespace

DivergenceData divergenceData(const Record& r) {
  DivergenceData d;
  const auto& a = field(r, "analyses/divergence");
  if (!a.is_object()) return d;
  const auto &ids = a.value("ids", nlohmann::json()), &kl = a.value("kl", nlohmann::json()),
             &dp = a.value("dp", nlohmann::json()), &pieces = a.value("pieces", nlohmann::json());
  if (!ids.is_array() || !kl.is_array() || kl.size() != ids.size() || (dp.is_array() && dp.size() != ids.size()) ||
      (pieces.is_array() && pieces.size() != ids.size()))
    return d;
  for (size_t i = 0; i < ids.size(); ++i) {
    DivergenceToken t;
    t.id = ids[i].is_number_integer() ? ids[i].get<int64_t>() : -1;
    t.text = pieces.is_array() && pieces[i].is_string() ? QString::fromStdString(pieces[i].get<std::string>())
                                                        : QStringLiteral("#%1").arg(t.id);
    t.kl = numberOr(kl[i]);
    t.dp = dp.is_array() ? numberOr(dp[i]) : NAN;
    d.tokens.push_back(t);
  }
  d.run = recordLabel(r);
  d.text = QFileInfo(QString::fromStdString(a.value("text", std::string()))).fileName();
  d.klMean = numberOr(a.value("kl_mean", nlohmann::json()));
  d.klMax = numberOr(a.value("kl_max", nlohmann::json()));
  d.predicted = a.value("tokens", int64_t(0));
  d.seqlen = a.value("seqlen", int64_t(0));
  return d;
}

std::vector<int> worstTokens(const DivergenceData& d, int n) {
  std::vector<int> idx;
  for (size_t i = 0; i < d.tokens.size(); ++i)
    if (std::isfinite(d.tokens[i].kl)) idx.push_back(int(i));
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return d.tokens[size_t(a)].kl > d.tokens[size_t(b)].kl; });
  if (int(idx.size()) > n) idx.resize(size_t(std::max(0, n)));
  return idx;
}

QString shownPiece(const QString& piece) {
  QString s = piece;
  s.replace('\n', QStringLiteral("↵"));
  s.replace('\t', QStringLiteral("→"));
  return s;
}

QString tokenContext(const DivergenceData& d, int i, int before, int after) {
  const int n = int(d.tokens.size());
  QString s = i - before > 0 ? QStringLiteral("…") : QString();
  for (int k = std::max(0, i - before); k < i; ++k) s += shownPiece(d.tokens[size_t(k)].text);
  s += "[" + shownPiece(d.tokens[size_t(i)].text) + "]";
  for (int k = i + 1; k < std::min(n, i + 1 + after); ++k) s += shownPiece(d.tokens[size_t(k)].text);
  if (i + 1 + after < n) s += QStringLiteral("…");
  return s;
}

TextTable worstTokenTable(const DivergenceData& d, int n) {
  TextTable t;
  if (d.empty()) return t;
  t.headers << QObject::tr("rank") << QObject::tr("position") << QObject::tr("token") << QObject::tr("KL (nats)")
            << QObject::tr("Δp correct") << QObject::tr("context");
  int rank = 1;
  for (int i : worstTokens(d, n)) {
    const DivergenceToken& tok = d.tokens[size_t(i)];
    t.rows.push_back({QString::number(rank++), QString::number(i), shownPiece(tok.text), QString::number(tok.kl, 'g', 6),
                      QString::number(tok.dp, 'g', 4), tokenContext(d, i)});
  }
  return t;
}

}  // namespace ptq::views
