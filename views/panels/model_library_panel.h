#pragma once
// Model library: Hugging Face checkpoint folders the user added, with architecture, parameter
// count, size on disk and, for the selected model, its linear layers. What reads a folder (the
// engine's summarize_checkpoint, headers only) is injected by the application.
#include <QStringList>
#include <QWidget>
#include <functional>

#include "core/model/model_summary.h"

class QLabel;
class QTreeWidget;
class QTableWidget;

namespace ptq::views {

class ModelLibraryPanel : public QWidget {
  Q_OBJECT
 public:
  // Folder -> summary; throws ptq::Error naming what is wrong with the folder.
  using CheckpointReader = std::function<ModelSummary(const std::string& dir)>;
  explicit ModelLibraryPanel(CheckpointReader reader, QWidget* parent = nullptr);

  // Adds a checkpoint folder; on bad input returns false and shows the error (error() holds it).
  bool addModel(const QString& dir);
  // Takes a model out of the library (the Remove button and the Delete key act on the selected
  // one); false when it is not there. Its files are not touched.
  bool removeModel(const QString& dir);
  void removeSelected();
  QStringList modelDirs() const;
  int modelCount() const;
  QString error() const { return error_; }
  QString selectedModel() const;

 Q_SIGNALS:
  void modelAdded(const QString& dir);
  void modelRemoved(const QString& dir);
  void selectionChanged(const QString& dir);

 private:
  void browse();
  void showDetails(int row);

  CheckpointReader reader_;
  std::vector<ModelSummary> models_;
  QTreeWidget* list_;
  QTableWidget* layers_;
  QLabel* status_;
  QString error_;
};

}  // namespace ptq::views
