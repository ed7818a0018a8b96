#include "views/export/table_export.h"

#include <QAbstractItemModel>
#include <QFileInfo>
#include <QRegularExpression>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"

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
  for (int c = 0; c < model.columnCount(); ++c) t.headers << model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
  for (int r = 0; r < model.rowCount(); ++r) {
    QStringList row;
    for (int c = 0; c < model.columnCount(); ++c) row << model.data(model.index(r, c), Qt::DisplayRole).toString();
    t.rows.push_back(row);
  }
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
  for (const auto& r : t.rows) line(r);
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

QString toLatex(const TextTable& t, const QString& caption, const QString& label) {
  QString spec;
  for (int c = 0; c < t.headers.size(); ++c) {
    bool numeric = false, other = false;
    for (const auto& r : t.rows) {
      if (c >= r.size() || r[c].isEmpty() || r[c] == QStringLiteral("–")) continue;
      (isNumeric(r[c]) ? numeric : other) = true;
    }
    spec += (numeric && !other) ? 'r' : 'l';
  }
  auto line = [](const QStringList& cells) {
    QStringList e;
    for (const auto& c : cells) e << latexEscape(c);
    return e.join(QStringLiteral(" & ")) + QStringLiteral(" \\\\\n");
  };
  QString out;
  bool wrap = !caption.isEmpty() || !label.isEmpty();
  if (wrap) out += QStringLiteral("\\begin{table}\n\\centering\n");
  if (!caption.isEmpty()) out += QStringLiteral("\\caption{%1}\n").arg(latexEscape(caption));
  if (!label.isEmpty()) out += QStringLiteral("\\label{%1}\n").arg(label);
  out += QStringLiteral("\\begin{tabular}{%1}\n\\toprule\n").arg(spec);
  out += line(t.headers);
  out += QStringLiteral("\\midrule\n");
  for (const auto& r : t.rows) out += line(r);
  out += QStringLiteral("\\bottomrule\n\\end{tabular}\n");
  if (wrap) out += QStringLiteral("\\end{table}\n");
  return out;
}

bool exportTable(const TextTable& table, const QString& path, QString* error) {
  QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "csv") return writeText(path, toCsv(table), error);
  if (suffix == "tex") return writeText(path, toLatex(table), error);
  if (error) *error = QStringLiteral("cannot export table to '%1': unknown format '%2' (use .csv or .tex)").arg(path, suffix);
  return false;
}

bool exportTable(const QAbstractItemModel& model, const QString& path, QString* error) {
  return exportTable(tableFromModel(model), path, error);
}

}  // namespace ptq::views
