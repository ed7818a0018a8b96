#pragma once
// Model library: Hugging Face checkpoint folders the user added, with architecture, parameter
// count, size on disk and, for the selected model, its linear layers. Reads headers only.
#include <QStringList>
#include <QWidget>

#include "core/model/model_summary.h"

class QLabel;
class QTreeWidget;
class QTableWidget;

namespace ptq::views {

class ModelLibraryPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelLibraryPanel(QWidget* parent = nullptr);

  // Adds a checkpoint folder; on bad input returns false and shows the error (error() holds it).
  bool addModel(const QString& dir);
  QStringList modelDirs() const;
  int modelCount() const;
  QString error() const { return error_; }
  QString selectedModel() const;

 Q_SIGNALS:
  void modelAdded(const QString& dir);
  void selectionChanged(const QString& dir);

 private:
  void browse();
  void showDetails(int row);

  std::vector<ModelSummary> models_;
  QTreeWidget* list_;
  QTableWidget* layers_;
  QLabel* status_;
  QString error_;
};

}  // namespace ptq::views
