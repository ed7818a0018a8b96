#include "views/analyses/comparison_table.h"

#include <QFileDialog>
#include <QFontMetricsF>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "views/charts/chart_style.h"
#include "views/charts/plot_frame.h"
#include "views/records/export_roles.h"

namespace ptq::views {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The results browser's order: numbers by value, missing values last in both directions.
class RunSortProxy : public QSortFilterProxyModel {
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  bool lessThan(const QModelIndex& a, const QModelIndex& b) const override {
    return sortsBefore(a.data(RunTableModel::SortRole), b.data(RunTableModel::SortRole), sortOrder());
  }
};
}  // namespace

RunTableModel::RunTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunTableModel::setRecords(const std::vector<Record>& records) {
  beginResetModel();
  records_ = records;
  double maxBytes = 0;
  for (const auto& r : records_) maxBytes = std::max(maxBytes, number(r, "metrics/size/total_bytes"));
  sizeUnit_ = maxBytes >= 1e9 ? 1e9 : 1e6;
  // The results browser's names and units (views/records/results_model.h); better: +1 higher, -1 lower.
  columns_ = {{"model", tr("model"), -1, 0},      {"method", tr("method"), -1, 0},
              {"bits", tr("bits"), 0, 0},          {"group", tr("group"), 0, 0},
              {"format", tr("format"), -1, 0},     {"ppl", tr("PPL"), 2, -1},
              {"dppl", tr("ΔPPL"), 2, -1},         {"size", sizeUnit_ == 1e9 ? tr("size (GB)") : tr("size (MB)"), 3, -1},
              {"bpw", tr("bits/weight (all)"), 2, -1}, {"lbpw", tr("bits/weight (linear)"), 2, -1},
              {"kl", tr("KL mean"), 4, -1},        {"top1", tr("top-1 (%)"), 1, 1}};
  for (const auto& t : taskNames(records_)) columns_.push_back({"task:" + t, tr("acc %1 (%)").arg(t), 1, 1});
  endResetModel();
}

int RunTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(records_.size()); }
int RunTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(columns_.size()); }

int RunTableModel::column(const QString& key) const {
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].key == key) return static_cast<int>(i);
  return -1;
}

double RunTableModel::value(int row, const QString& key) const {
  int c = column(key);
  if (c < 0 || row < 0 || row >= rowCount()) return kNaN;
  QVariant v = cell(row, columns_[c], true);
  return v.typeId() == QMetaType::Double ? v.toDouble() : kNaN;
}

QVariant RunTableModel::cell(int row, const Column& c, bool raw) const {
  const Record& r = records_[row];
  const QString& k = c.key;
  if (k == "model") return modelName(r);
  if (k == "method") return methodName(r);
  if (k == "format") return isBaseline(r) ? text(r, "provenance/dtype") : text(r, "quant/format");
  double v = kNaN;
  if (k == "bits") v = bits(r);
  else if (k == "group") v = groupSize(r);
  else if (k == "ppl") v = number(r, "metrics/ppl");
  else if (k == "dppl") v = deltaPpl(r, records_);  // as the results browser: the baseline's own is 0
  else if (k == "size") v = number(r, "metrics/size/total_bytes") / sizeUnit_;
  else if (k == "bpw") v = number(r, "metrics/size/bits_per_weight");
  else if (k == "lbpw") v = number(r, "metrics/size/linear_bits_per_weight");
  else if (k == "kl") v = number(r, "metrics/compare/kl_mean");
  else if (k == "top1") v = 100 * number(r, "metrics/compare/top1_agreement");
  else if (k.startsWith("task:")) v = 100 * taskAccuracy(r, k.mid(5));
  if (raw) return v;
  if (std::isnan(v)) return QString();
  if (k == "group" && v == 0) return tr("per-ch");
  QString s = QString::number(v, 'f', c.decimals);
  if (k == "dppl" && v > 0) s.prepend('+');
  return s;
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount()) return {};
  const Column& c = columns_[index.column()];
  if (role == Qt::DisplayRole) return cell(index.row(), c, false);
  if (role == SortRole) return cell(index.row(), c, true);
  if (role == kExactValueRole) {
    const QVariant v = cell(index.row(), c, true);
    return v.typeId() == QMetaType::Double && std::isfinite(v.toDouble()) ? v : QVariant();
  }
  if (role == kReferenceRowRole) return isBaseline(records_[index.row()]);
  if (role == Qt::TextAlignmentRole)
    return QVariant::fromValue(c.decimals >= 0 ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole) return recordLabel(records_[index.row()]) + "\n" + text(records_[index.row()], "run_id");
  return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
  if (role == kBetterRole) return columns_[section].better;
  if (role == Qt::ToolTipRole && columns_[section].key == "bpw")
    return tr("8 · total bytes / every weight: the embeddings and the head are counted (at fp16 unless quantized)");
  if (role == Qt::ToolTipRole && columns_[section].key == "lbpw")
    return tr("8 · bytes of the linear layers / their weights: embeddings and head not counted");
  if (role != Qt::DisplayRole) return {};
  return columns_[section].header;
}

ComparisonTableView::ComparisonTableView(QWidget* parent) : AnalysisView(parent) {
  setObjectName("comparison");
  model_ = new RunTableModel(this);
  proxy_ = new RunSortProxy(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(RunTableModel::SortRole);
  table_ = new QTableView(this);
  table_->setObjectName("table");
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // keep the records' order until a header is clicked
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->verticalHeader()->hide();
  auto* csv = new QPushButton(tr("Export CSV…"), this);
  csv->setObjectName("exportCsv");
  auto* tex = new QPushButton(tr("Export LaTeX…"), this);
  tex->setObjectName("exportLatex");
  connect(csv, &QPushButton::clicked, this, [this] { exportDialog("csv"); });
  connect(tex, &QPushButton::clicked, this, [this] { exportDialog("tex"); });
  auto* buttons = new QHBoxLayout;
  buttons->addStretch(1);
  buttons->addWidget(csv);
  buttons->addWidget(tex);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(table_, 1);
  layout->addLayout(buttons);
}

void ComparisonTableView::setRecords(const std::vector<nlohmann::json>& records) {
  model_->setRecords(records);
  Q_EMIT figureChanged();
}

QString ComparisonTableView::noDataMessage() const {
  return hasData() ? QString()
                   : tr("no data: open a results folder (File ▸ Open results directory) or run an experiment "
                        "(Experiment tab) or a sweep (Sweep tab)");
}

const QAbstractItemModel& ComparisonTableView::tableModel() const { return *proxy_; }
TextTable ComparisonTableView::dataTable() const { return tableFromModel(*proxy_); }
bool ComparisonTableView::exportTo(const QString& path, QString* error) const { return exportTable(*proxy_, path, error); }

void ComparisonTableView::exportDialog(const QString& suffix) {
  QString filter = suffix == "csv" ? tr("CSV (*.csv)") : tr("LaTeX (*.tex)");
  QString path = QFileDialog::getSaveFileName(this, tr("Export table"), "comparison." + suffix, filter);
  if (path.isEmpty()) return;
  QString error;
  if (!exportTo(path, &error)) QMessageBox::warning(this, tr("Export failed"), error);
}

void ComparisonTableView::exportPaint(QPainter& p, const QRectF& target) {
  if (!hasData()) {
    paintMessage(p, target, noDataMessage());
    return;
  }
  TextTable t = dataTable();
  ChartStyle s(p);
  p.save();
  p.fillRect(target, Qt::white);
  QFont body = s.font(0.9), head = s.font(0.9, true);
  QFontMetricsF fb(body), fh(head);
  double pad = s.pt(4);
  std::vector<double> widths;
  for (int c = 0; c < t.headers.size(); ++c) {
    double w = fh.horizontalAdvance(t.headers[c]);
    for (const auto& r : t.rows) w = std::max(w, fb.horizontalAdvance(r[c]));
    widths.push_back(w + pad);
  }
  double natural = 0;
  for (double w : widths) natural += w;
  double rowH = fb.height() * 1.3;
  double naturalH = rowH * (t.rows.size() + 1) + 2 * pad;
  double scale = std::min({1.0, (target.width() - 2 * pad) / natural, (target.height() - 2 * pad) / naturalH});
  p.translate(target.left() + pad, target.top() + pad);
  p.scale(scale, scale);
  QPen rule(s.textColor());
  auto drawRow = [&](const QStringList& cells, double y, const QFont& f) {
    p.setFont(f);
    double x = 0;
    for (int c = 0; c < cells.size(); ++c) {
      auto align = model_->data(model_->index(0, c), Qt::TextAlignmentRole).value<Qt::Alignment>();
      p.drawText(QRectF(x, y, widths[c] - pad / 2, rowH), align, cells[c]);
      x += widths[c];
    }
  };
  p.setPen(s.textColor());
  rule.setWidthF(s.pt(0.8));
  p.setPen(rule);
  p.drawLine(QPointF(0, 0), QPointF(natural, 0));
  drawRow(t.headers, 0, head);
  rule.setWidthF(s.pt(0.5));
  p.setPen(rule);
  p.drawLine(QPointF(0, rowH), QPointF(natural, rowH));
  for (size_t r = 0; r < t.rows.size(); ++r) drawRow(t.rows[r], rowH * (r + 1), body);
  rule.setWidthF(s.pt(0.8));
  p.setPen(rule);
  p.drawLine(QPointF(0, rowH * (t.rows.size() + 1)), QPointF(natural, rowH * (t.rows.size() + 1)));
  p.restore();
}

}  // namespace ptq::views
