#pragma once
// The results browser's data: a table over result records (docs/results-schema.md), one row per
// record, and a proxy that sorts by the numbers behind each cell and filters by free text and by
// method. Δppl is the difference to the full-precision record of the same model and eval setup
// (record_fields.h deltaPpl). Names and units are the comparison table's (views/analyses/
// comparison_table.h): accuracies and top-1 agreement in percent, the size in MB or GB (GB when a
// model reaches 1 GB), bits per weight both with the embeddings and head counted ("all") and over
// the linear layers alone. Cells give export_roles.h's full-precision values and directions.
#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <nlohmann/json.hpp>
#include <vector>

namespace ptq::views {

class ResultsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    Model, Method, Bits, Group, Format, Calib, Ppl, DeltaPpl, SizeMB, BitsPerWeight, LinearBitsPerWeight, KlMean,
    Top1, TaskAcc, Seconds, Device, Date, ColumnCount
  };
  // The number behind a cell (NaN when absent; text columns: none), used for sorting.
  static constexpr int SortRole = Qt::UserRole + 1;
  static constexpr int PathRole = Qt::UserRole + 2;
  static constexpr int RunIdRole = Qt::UserRole + 3;

  struct Entry {
    QString path;
    nlohmann::json record;
  };

  explicit ResultsModel(QObject* parent = nullptr);

  // Replaces every row.
  void setRecords(std::vector<Entry> entries);
  // Adds a record, or replaces the row with the same path or run_id.
  void upsert(const QString& path, const nlohmann::json& record);
  void clear() { setRecords({}); }

  const nlohmann::json& record(int row) const { return records_[size_t(row)]; }
  const std::vector<nlohmann::json>& records() const { return records_; }
  QString path(int row) const { return paths_[size_t(row)]; }
  int rowOfRunId(const QString& run_id) const;  // -1 when absent
  double deltaPpl(int row) const { return cells_[size_t(row)].delta; }
  double sizeUnit() const { return sizeUnit_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;

 private:
  struct Derived {
    double delta;
    double taskAcc;
    QString taskTip;
  };
  void derive();  // Δppl and task accuracy of every row (Δppl depends on all rows)
  QVariant display(int row, int col) const;
  QVariant sortValue(int row, int col) const;

  std::vector<QString> paths_;
  std::vector<nlohmann::json> records_;
  std::vector<Derived> cells_;
  double sizeUnit_ = 1e6;  // bytes per unit of the size column
};

// Sort by SortRole, filter by text (any column, case-insensitive) and by method ("" = all).
class ResultsFilter : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  explicit ResultsFilter(QObject* parent = nullptr);
  void setText(const QString& text);
  void setMethod(const QString& method);
  QString method() const { return method_; }

 protected:
  bool filterAcceptsRow(int row, const QModelIndex& parent) const override;
  bool lessThan(const QModelIndex& a, const QModelIndex& b) const override;

 private:
  QString text_, method_;
};

}  // namespace ptq::views
