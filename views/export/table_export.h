#pragma once
// Tables out of the workbench: CSV (RFC 4180: fields with comma, quote or newline quoted, quotes
// doubled) and LaTeX (booktabs: \toprule, \midrule, \bottomrule; special characters escaped;
// numeric columns right-aligned). Both take a plain table or any QAbstractItemModel (the
// comparison table, the results browser), using its horizontal headers and DisplayRole texts.
#include <QString>
#include <QStringList>
#include <vector>

class QAbstractItemModel;

namespace ptq::views {

struct TextTable {
  QStringList headers;
  std::vector<QStringList> rows;  // each the size of headers
};

TextTable tableFromModel(const QAbstractItemModel& model);

QString toCsv(const TextTable& t);
// caption / label: optional; when set the tabular is wrapped in a table environment.
QString toLatex(const TextTable& t, const QString& caption = {}, const QString& label = {});
QString latexEscape(const QString& s);

// Writes by suffix: .csv or .tex. Atomic. Returns false and sets *error on failure.
bool exportTable(const QAbstractItemModel& model, const QString& path, QString* error);
bool exportTable(const TextTable& table, const QString& path, QString* error);

}  // namespace ptq::views
