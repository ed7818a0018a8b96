#pragma once
// Tables out of the workbench: CSV (RFC 4180: fields with comma, quote or newline quoted, quotes
// doubled) and LaTeX (booktabs: \toprule, \midrule, \bottomrule; special characters escaped;
// numeric columns right-aligned). Both take a plain table or any QAbstractItemModel (the
// comparison table, the results browser), using its horizontal headers and DisplayRole texts,
// and the roles of views/records/export_roles.h where the model has them: CSV writes each
// number at full precision (kExactValueRole), LaTeX is a complete `table` (caption, label) with
// the best value of each column that has a direction (kBetterRole) in bold, baselines left out.
#include <QString>
#include <QStringList>
#include <vector>

class QAbstractItemModel;

namespace ptq::views {

struct TextTable {
  QStringList headers;
  std::vector<QStringList> rows;   // each the size of headers: the texts shown (rounded)
  std::vector<QStringList> exact;  // empty, or as rows: full-precision texts (CSV); "" = as shown
  std::vector<int> better;         // empty, or one per column: +1 higher is better, -1 lower, 0 neither
  std::vector<bool> reference;     // empty, or one per row: a baseline, not a candidate for "best"
};

TextTable tableFromModel(const QAbstractItemModel& model);

QString toCsv(const TextTable& t);
// The booktabs tabular alone (to paste into an existing table).
QString toLatexTabular(const TextTable& t);
// A complete table environment: caption (default: what the table holds and what bold means),
// label (default tab:ptq-results), the tabular with each column's best value in bold.
QString toLatex(const TextTable& t, const QString& caption = {}, const QString& label = {});
// Rows of the best value in column c (ties: every one); none when the column has no direction.
std::vector<int> bestRows(const TextTable& t, int c);
QString latexEscape(const QString& s);

// Writes by suffix: .csv or .tex (toLatex with caption / label). Atomic. Returns false and sets
// *error on failure.
bool exportTable(const QAbstractItemModel& model, const QString& path, QString* error, const QString& caption = {},
                 const QString& label = {});
bool exportTable(const TextTable& table, const QString& path, QString* error, const QString& caption = {},
                 const QString& label = {});

}  // namespace ptq::views
