#include "views/records/results_model.h"

#include <QDateTime>
#include <QFileInfo>
#include <cmath>
#include <algorithm>
#include <limits>

#include "views/records/export_roles.h"
#include "views/records/record_fields.h"

namespace ptq::views {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString calibText(const nlohmann::json& r) {
  const auto& files = field(r, "calibration/files");
  if (!files.is_array() || files.empty()) return {};
  QStringList names;
  for (const auto& f : files)
    if (f.is_string()) names << QFileInfo(QString::fromStdString(f.get<std::string>())).completeBaseName();
  double n = number(r, "calibration/nsamples"), len = number(r, "calibration/seqlen");
  QString s = names.join('+');
  if (!std::isnan(n) && !std::isnan(len)) s += QStringLiteral(" %1×%2").arg(n).arg(len);
  return s;
}

QString formatText(const nlohmann::json& r) {
  if (isBaseline(r)) return {};
  QString f = text(r, "quant/format");
  const auto& sym = field(r, "quant/sym");
  if (f.isEmpty() || f == "int") f = QStringLiteral("int");
  if (f == "int" && sym.is_boolean()) f += sym.get<bool>() ? QStringLiteral(" sym") : QStringLiteral(" asym");
  return f;
}

QString dateText(const nlohmann::json& r) {
  QDateTime t = QDateTime::fromString(text(r, "created_at"), Qt::ISODate);
  return t.isValid() ? t.toLocalTime().toString("yyyy-MM-dd HH:mm") : text(r, "created_at");
}

QString fixed(double v, int decimals) { return std::isnan(v) ? QString() : QString::number(v, 'f', decimals); }

}  // namespace

ResultsModel::ResultsModel(QObject* parent) : QAbstractTableModel(parent) {}

void ResultsModel::setRecords(std::vector<Entry> entries) {
  beginResetModel();
  paths_.clear();
  records_.clear();
  for (auto& e : entries) {
    paths_.push_back(e.path);
    records_.push_back(std::move(e.record));
  }
  derive();
  endResetModel();
}

void ResultsModel::upsert(const QString& path, const nlohmann::json& record) {
  const QString id = text(record, "run_id");
  int row = -1;
  for (size_t i = 0; i < paths_.size() && row < 0; ++i)
    if (paths_[i] == path || (!id.isEmpty() && text(records_[i], "run_id") == id)) row = int(i);
  if (row < 0) {
    beginInsertRows({}, rowCount(), rowCount());
    paths_.push_back(path);
    records_.push_back(record);
    derive();
    endInsertRows();
  } else {
    paths_[size_t(row)] = path;
    records_[size_t(row)] = record;
    derive();
  }
  // A new fp record changes the Δppl of its model's other rows.
  if (rowCount() > 0) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int ResultsModel::rowOfRunId(const QString& run_id) const {
  for (size_t i = 0; i < records_.size(); ++i)
    if (text(records_[i], "run_id") == run_id) return int(i);
  return -1;
}

void ResultsModel::derive() {
  cells_.clear();
  double maxBytes = 0;
  for (const auto& r : records_) maxBytes = std::max(maxBytes, number(r, "metrics/size/total_bytes"));
  sizeUnit_ = maxBytes >= 1e9 ? 1e9 : 1e6;  // as the comparison table
  for (const auto& r : records_) {
    Derived d{views::deltaPpl(r, records_), kNaN, {}};
    double sum = 0;
    int n = 0;
    QStringList tip;
    for (const QString& task : taskNames({r})) {
      double acc = taskAccuracy(r, task);
      if (std::isnan(acc)) continue;
      sum += acc;
      ++n;
      tip << QStringLiteral("%1: %2 %").arg(task).arg(100 * acc, 0, 'f', 1);
    }
    if (n) d.taskAcc = 100 * sum / n;
    d.taskTip = tip.join('\n');
    cells_.push_back(std::move(d));
  }
}

int ResultsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(records_.size()); }
int ResultsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ResultsModel::sortValue(int row, int col) const {
  const auto& r = records_[size_t(row)];
  switch (col) {
    case Bits: return bits(r);
    case Group: return isBaseline(r) ? kNaN : number(r, "quant/group");
    case Ppl: return number(r, "metrics/ppl");
    case DeltaPpl: return cells_[size_t(row)].delta;
    case SizeMB: return number(r, "metrics/size/total_bytes") / sizeUnit_;
    case BitsPerWeight: return number(r, "metrics/size/bits_per_weight");
    case LinearBitsPerWeight: return number(r, "metrics/size/linear_bits_per_weight");
    case KlMean: return number(r, "metrics/compare/kl_mean");
    case Top1: return 100 * number(r, "metrics/compare/top1_agreement");
    case TaskAcc: return cells_[size_t(row)].taskAcc;
    case Seconds: return number(r, "metrics/seconds/total");
    case Date: return text(r, "created_at");
    default: return display(row, col);
  }
}

QVariant ResultsModel::display(int row, int col) const {
  const auto& r = records_[size_t(row)];
  const bool fp = isBaseline(r);
  switch (col) {
    case Model: return modelName(r);
    case Method: return methodName(r);
    case Bits: return fp ? QStringLiteral("16") : fixed(number(r, "quant/bits"), 0);
    case Group: {
      if (fp) return QString();
      double g = number(r, "quant/group");
      return std::isnan(g) ? QString() : g <= 0 ? QStringLiteral("per-ch") : QString::number(g);
    }
    case Format: return formatText(r);
    case Calib: return calibText(r);
    case Ppl: return fixed(number(r, "metrics/ppl"), 2);
    case DeltaPpl: {
      double d = cells_[size_t(row)].delta;
      return std::isnan(d) ? QString() : (d > 0 ? "+" : "") + QString::number(d, 'f', 2);  // as the comparison table
    }
    case SizeMB: return fixed(number(r, "metrics/size/total_bytes") / sizeUnit_, 3);
    case BitsPerWeight: return fixed(number(r, "metrics/size/bits_per_weight"), 2);
    case LinearBitsPerWeight: return fixed(number(r, "metrics/size/linear_bits_per_weight"), 2);
    case KlMean: return fixed(number(r, "metrics/compare/kl_mean"), 4);
    case Top1: return fixed(100 * number(r, "metrics/compare/top1_agreement"), 1);
    case TaskAcc: return fixed(cells_[size_t(row)].taskAcc, 1);
    case Seconds: return fixed(number(r, "metrics/seconds/total"), 1);
    case Device: return text(r, "provenance/device");
    case Date: return dateText(r);
  }
  return {};
}

QVariant ResultsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const int row = index.row(), col = index.column();
  switch (role) {
    case Qt::DisplayRole: return display(row, col);
    case SortRole: return sortValue(row, col);
    case kExactValueRole: {
      const QVariant v = col >= Bits && col != Format && col != Calib && col <= Seconds ? sortValue(row, col) : QVariant();
      return v.typeId() == QMetaType::Double && std::isfinite(v.toDouble()) ? v : QVariant();
    }
    case kReferenceRowRole: return isBaseline(records_[size_t(row)]);
    case PathRole: return paths_[size_t(row)];
    case RunIdRole: return text(records_[size_t(row)], "run_id");
    case Qt::ToolTipRole:
      if (col == TaskAcc && !cells_[size_t(row)].taskTip.isEmpty()) return cells_[size_t(row)].taskTip;
      return recordLabel(records_[size_t(row)]) + "\n" + paths_[size_t(row)];
    case Qt::TextAlignmentRole:
      return col >= Bits && col <= Seconds && col != Format && col != Calib
                 ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                 : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
  }
  return {};
}

QVariant ResultsModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || section < 0 || section >= ColumnCount) return QAbstractTableModel::headerData(section, o, role);
  if (role == kBetterRole) {
    switch (section) {
      case Ppl: case DeltaPpl: case SizeMB: case BitsPerWeight: case LinearBitsPerWeight: case KlMean: case Seconds: return -1;
      case Top1: case TaskAcc: return 1;
      default: return 0;
    }
  }
  if (role == Qt::ToolTipRole) {
    if (section == BitsPerWeight) return tr("8 · total bytes / every weight: the embeddings and the head are counted (at fp16 unless quantized)");
    if (section == LinearBitsPerWeight) return tr("8 · bytes of the linear layers / their weights: embeddings and head not counted");
    if (section == TaskAcc) return tr("mean accuracy over the run's tasks, in percent");
    return {};
  }
  if (role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, o, role);
  if (section == SizeMB) return sizeUnit_ == 1e9 ? tr("size (GB)") : tr("size (MB)");
  static const char* names[ColumnCount] = {"model", "method", "bits", "group", "format", "calib", "PPL", "ΔPPL", "size",
                                           "bits/weight (all)", "bits/weight (linear)", "KL mean", "top-1 (%)",
                                           "task acc (%)", "seconds", "device", "date"};
  return tr(names[section]);
}

ResultsFilter::ResultsFilter(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(ResultsModel::SortRole);
  setDynamicSortFilter(true);
}

void ResultsFilter::setText(const QString& text) {
  text_ = text.trimmed();
  invalidateFilter();
}

void ResultsFilter::setMethod(const QString& method) {
  method_ = method;
  invalidateFilter();
}

bool ResultsFilter::filterAcceptsRow(int row, const QModelIndex& parent) const {
  const QAbstractItemModel* m = sourceModel();
  if (!method_.isEmpty() && m->index(row, ResultsModel::Method, parent).data().toString() != method_) return false;
  if (text_.isEmpty()) return true;
  const QStringList words = text_.split(' ', Qt::SkipEmptyParts);
  for (const QString& w : words) {
    bool found = m->index(row, 0, parent).data(ResultsModel::RunIdRole).toString().contains(w, Qt::CaseInsensitive);
    for (int c = 0; c < m->columnCount(parent) && !found; ++c)
      found = m->index(row, c, parent).data().toString().contains(w, Qt::CaseInsensitive);
    if (!found) return false;
  }
  return true;
}

bool ResultsFilter::lessThan(const QModelIndex& a, const QModelIndex& b) const {
  return sortsBefore(a.data(sortRole()), b.data(sortRole()), sortOrder());  // missing values last
}

}  // namespace ptq::views
