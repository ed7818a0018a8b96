#pragma once
// The comparison table of runs: one row per record (model, method, bits, group, format, ppl,
// Δppl against full precision, size, bits/weight, KL, top-1 agreement, one column per task
// accuracy), sortable on the numbers, exportable to CSV and LaTeX (booktabs), and paintable as a
// figure like every other view.
#include <QAbstractTableModel>

#include "views/analyses/analysis_view.h"
#include "views/records/record_fields.h"

class QSortFilterProxyModel;
class QTableView;

namespace ptq::views {

class RunTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  static constexpr int SortRole = Qt::UserRole;  // the raw number (NaN sorts last) or the text
  explicit RunTableModel(QObject* parent = nullptr);
  void setRecords(const std::vector<Record>& records);
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  // Column index by header key ("ppl", "dppl", "kl", "task:lambada", ...), -1 when absent.
  int column(const QString& key) const;
  // The number in a cell (NaN when empty or textual).
  double value(int row, const QString& key) const;
  const Record& record(int row) const { return records_[row]; }

 private:
  struct Column { QString key, header; int decimals; int better; };  // decimals < 0: text column
  QVariant cell(int row, const Column& c, bool raw) const;
  std::vector<Record> records_;
  std::vector<Column> columns_;
  double sizeUnit_ = 1e6;
};

class ComparisonTableView : public AnalysisView {
  Q_OBJECT
 public:
  explicit ComparisonTableView(QWidget* parent = nullptr);
  QString viewId() const override { return QStringLiteral("comparison"); }
  QString title() const override { return tr("Comparison table"); }
  void setRecords(const std::vector<nlohmann::json>& records) override;
  void exportPaint(QPainter& p, const QRectF& target) override;
  bool hasData() const override { return model_->rowCount() > 0; }
  QString noDataMessage() const override;
  TextTable dataTable() const override;
  // The table as shown (sorted): what CSV / LaTeX export write.
  const QAbstractItemModel& tableModel() const;
  RunTableModel& runModel() { return *model_; }
  bool exportTo(const QString& path, QString* error) const;

 private:
  void exportDialog(const QString& suffix);
  RunTableModel* model_;
  QSortFilterProxyModel* proxy_;
  QTableView* table_;
};

}  // namespace ptq::views
