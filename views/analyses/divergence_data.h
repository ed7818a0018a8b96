#pragma once
// The data of the divergence view, read from a record's analyses.divergence (docs/results-schema.md):
// the eval text's first tokens, each with KL(p_fp ‖ p_q) of the next-token distributions that
// predicted it and Δp of the correct token (NaN for a window's first token, context only), and
// the worst tokens with their context.
#include <QString>
#include <QStringList>
#include <cstdint>
#include <vector>

#include "views/export/table_export.h"
#include "views/records/record_fields.h"

namespace ptq::views {

struct DivergenceToken {
  QString text;     // the token's decoded piece ("#id" when the record has no pieces)
  int64_t id = -1;
  double kl = NAN;  // nats; NaN: predicted by nothing (a window's first token)
  double dp = NAN;  // p_q(token) − p_fp(token)
};

struct DivergenceData {
  QString run, text;  // the run's label, the eval text's file
  std::vector<DivergenceToken> tokens;
  double klMean = NAN, klMax = NAN;
  int64_t predicted = 0, seqlen = 0;
  bool empty() const { return tokens.empty(); }
};

// From one record; empty when it has no usable analyses.divergence (arrays of unequal length).
DivergenceData divergenceData(const Record& r);
// Indices of the predicted tokens by descending KL (ties: earlier first), at most n.
std::vector<int> worstTokens(const DivergenceData& d, int n);
// The text around token i: `before` tokens, the token in [brackets], `after` tokens; newlines as ↵.
QString tokenContext(const DivergenceData& d, int i, int before = 8, int after = 3);
// A token's text as painted (newline ↵, tab →).
QString shownPiece(const QString& piece);
// The worst n tokens as a table: rank, position, token, KL, Δp, context.
TextTable worstTokenTable(const DivergenceData& d, int n);

}  // namespace ptq::views
