#include "views/export/table_export.h"

#include <QAbstractItemModel>
#include <QFileInfo>
#include <QLocale>
#include <QRegularExpression>
#include <cmath>
#include <set>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "views/records/export_roles.h"

namespace ptq::views {
namespace {
bool isNumeric(const QString& s) {
  static const QRegularExpression re(QStringLiteral("^[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?%?$"));
  return re.match(s.trimmed()).hasMatch();
}

QString csvField(const QString& s) {
  bool quote = s.contains(',') || s.contains('"') || s.contains('\n') || s.contains('\r') ||
               (!s.isEmpty() && (s.front().isSpace() || s.back().isSpace()));
  if (!quote) return s;
  QString q = s;
  q.replace('"', QStringLiteral("\"\""));
  return '"' + q + '"';
}

// The number a cell holds ("+30.00" and "89.0%" read as 30 and 89); NaN when it is text.
double cellNumber(const QString& s) {
  QString t = s.trimmed();
  if (!isNumeric(t)) return std::nan("");
  if (t.endsWith('%')) t.chop(1);
  return t.toDouble();
}

bool writeText(const QString& path, const QString& content, QString* error) {
  try {
    ptq::write_file_atomic(path.toStdString(), content.toUtf8().toStdString());
    return true;
  } catch (const ptq::Error& e) {
    if (error) *error = QString::fromStdString(e.what());
    return false;
  }
}
}  // namespace

TextTable tableFromModel(const QAbstractItemModel& model) {
  TextTable t;
  bool anyExact = false;
  for (int c = 0; c < model.columnCount(); ++c) {
    t.headers << model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
    t.better.push_back(model.headerData(c, Qt::Horizontal, kBetterRole).toInt());
  }
  for (int r = 0; r < model.rowCount(); ++r) {
    QStringList row, exact;
    for (int c = 0; c < model.columnCount(); ++c) {
      const QModelIndex i = model.index(r, c);
      row << model.data(i, Qt::DisplayRole).toString();
      const QVariant v = model.data(i, kExactValueRole);
      const bool number = v.isValid() && v.typeId() == QMetaType::Double && std::isfinite(v.toDouble());
      // Shortest text that reads back as the same double (no rounding, no spurious digits).
      exact << (number ? QString::number(v.toDouble(), 'g', QLocale::FloatingPointShortest) : QString());
      anyExact |= number;
    }
    t.rows.push_back(row);
    t.exact.push_back(exact);
    t.reference.push_back(model.data(model.index(r, 0), kReferenceRowRole).toBool());
  }
  if (!anyExact) t.exact.clear();
  return t;
}

QString toCsv(const TextTable& t) {
  QString out;
  auto line = [&](const QStringList& cells) {
    QStringList f;
    for (const auto& c : cells) f << csvField(c);
    out += f.join(',') + '\n';
  };
  line(t.headers);
  for (size_t r = 0; r < t.rows.size(); ++r) {
    QStringList cells = t.rows[r];
    if (r < t.exact.size())
      for (int c = 0; c < cells.size() && c < t.exact[r].size(); ++c)
        if (!t.exact[r][c].isEmpty()) cells[c] = t.exact[r][c];
    line(cells);
  }
  return out;
}

std::vector<int> bestRows(const TextTable& t, int c) {
  std::vector<int> out;
  const int dir = c >= 0 && size_t(c) < t.better.size() ? t.better[size_t(c)] : 0;
  if (dir == 0) return out;
  double best = std::nan("");
  std::vector<double> v(t.rows.size(), std::nan(""));
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (r < t.reference.size() && t.reference[r]) continue;
    const QString exact = r < t.exact.size() && c < t.exact[r].size() ? t.exact[r][c] : QString();
    v[r] = cellNumber(exact.isEmpty() ? (c < t.rows[r].size() ? t.rows[r][c] : QString()) : exact);
    if (!std::isnan(v[r]) && (std::isnan(best) || dir * v[r] > dir * best)) best = v[r];
  }
  for (size_t r = 0; r < v.size(); ++r)
    if (!std::isnan(best) && v[r] == best) out.push_back(int(r));
  return out;
}

QString latexEscape(const QString& s) {
  QString out;
  for (QChar ch : s) {
    switch (ch.unicode()) {
      case '\\': out += QStringLiteral("\\textbackslash{}"); break;
      case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += ch; break;
      case '~': out += QStringLiteral("\\textasciitilde{}"); break;
      case '^': out += QStringLiteral("\\textasciicircum{}"); break;
      case 0x0394: out += QStringLiteral("$\\Delta$"); break;   // Δ
      case 0x2013: out += QStringLiteral("--"); break;          // –
      case 0x2016: out += QStringLiteral("$\\|$"); break;       // ‖
      default: out += ch;
    }
  }
  return out;
}

QString toLatexTabular(const TextTable& t) {
  QString spec;
  for (int c = 0; c < t.headers.size(); ++c) {
    bool numeric = false, other = false;
    for (const auto& r : t.rows) {
      if (c >= r.size() || r[c].isEmpty() || r[c] == QStringLiteral("–")) continue;
      (isNumeric(r[c]) ? numeric : other) = true;
    }
    spec += (numeric && !other) ? 'r' : 'l';
  }
  std::vector<std::set<int>> bold(size_t(t.headers.size()));
  for (int c = 0; c < t.headers.size(); ++c)
    for (int r : bestRows(t, c)) bold[size_t(c)].insert(r);
  auto line = [&](const QStringList& cells, int row) {
    QStringList e;
    for (int c = 0; c < cells.size(); ++c) {
      QString cell = latexEscape(cells[c]);
      if (row >= 0 && c < int(bold.size()) && bold[size_t(c)].count(row)) cell = QStringLiteral("\\textbf{%1}").arg(cell);
      e << cell;
    }
    return e.join(QStringLiteral(" & ")) + QStringLiteral(" \\\\\n");
  };
  QString out = QStringLiteral("\\begin{tabular}{%1}\n\\toprule\n").arg(spec);
  out += line(t.headers, -1);
  out += QStringLiteral("\\midrule\n");
  for (size_t r = 0; r < t.rows.size(); ++r) out += line(t.rows[r], int(r));
  out += QStringLiteral("\\bottomrule\n\\end{tabular}\n");
  return out;
}

QString toLatex(const TextTable& t, const QString& caption, const QString& label) {
  bool anyBest = false;
  for (int c = 0; c < t.headers.size(); ++c) anyBest |= !bestRows(t, c).empty();
  bool anyReference = false;
  for (bool r : t.reference) anyReference |= r;
  QString cap = caption;
  if (cap.isEmpty()) {
    cap = QStringLiteral("Post-training quantization results (%1 %2).").arg(t.rows.size()).arg(t.rows.size() == 1 ? "run" : "runs");
    if (anyBest) cap += anyReference ? QStringLiteral(" Best value of each column in bold (full-precision baselines excluded).")
                                     : QStringLiteral(" Best value of each column in bold.");
  }
  QString out = QStringLiteral("% needs \\usepackage{booktabs}\n\\begin{table}\n\\centering\n");
  out += QStringLiteral("\\caption{%1}\n").arg(latexEscape(cap));
  out += QStringLiteral("\\label{%1}\n").arg(label.isEmpty() ? QStringLiteral("tab:ptq-results") : label);
  out += toLatexTabular(t);
  out += QStringLiteral("\\end{table}\n");
  return out;
}

bool exportTable(const TextTable& table, const QString& path, QString* error, const QString& caption,
                 const QString& label) {
  QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "csv") return writeText(path, toCsv(table), error);
  if (suffix == "tex") return writeText(path, toLatex(table, caption, label), error);
  if (error) *error = QStringLiteral("cannot export table to '%1': unknown format '%2' (use .csv or .tex)").arg(path, suffix);
  return false;
}

bool exportTable(const QAbstractItemModel& model, const QString& path, QString* error, const QString& caption,
                 const QString& label) {
  return exportTable(tableFromModel(model), path, error, caption, label);
}

}  // namespace ptq::views
