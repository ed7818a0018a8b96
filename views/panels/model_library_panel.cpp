#include "views/panels/model_library_panel.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QShortcut>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "core/runtime/errors.h"

namespace ptq::views {

namespace {
QString human_count(int64_t n) {
  if (n >= 1000000000) return QString::number(double(n) / 1e9, 'f', 2) + " B";
  if (n >= 1000000) return QString::number(double(n) / 1e6, 'f', 2) + " M";
  return QString::number(n);
}
QString human_bytes(uint64_t n) {
  if (n >= (uint64_t(1) << 30)) return QString::number(double(n) / double(1 << 30), 'f', 2) + " GiB";
  return QString::number(double(n) / double(1 << 20), 'f', 1) + " MiB";
}
}  // namespace

ModelLibraryPanel::ModelLibraryPanel(CheckpointReader reader, QWidget* parent) : QWidget(parent), reader_(std::move(reader)) {
  auto* add = new QPushButton(tr("Add model folder…"), this);
  add->setObjectName("addModel");
  list_ = new QTreeWidget(this);
  list_->setObjectName("models");
  list_->setHeaderLabels({tr("Model"), tr("Architecture"), tr("Parameters"), tr("Size on disk"), tr("Layers")});
  list_->setRootIsDecorated(false);
  layers_ = new QTableWidget(0, 4, this);
  layers_->setObjectName("layers");
  layers_->setHorizontalHeaderLabels({tr("Linear layer"), tr("Type"), tr("Out"), tr("In")});
  layers_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  layers_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* remove = new QPushButton(tr("Remove from library"), this);
  remove->setObjectName("removeModel");
  remove->setToolTip(tr("Takes the selected model out of the library; its folder is not touched (Delete)"));
  auto* del = new QShortcut(QKeySequence::Delete, list_, nullptr, nullptr, Qt::WidgetShortcut);
  connect(del, &QShortcut::activated, this, &ModelLibraryPanel::removeSelected);
  auto* top = new QHBoxLayout;
  top->addWidget(add);
  top->addWidget(remove);
  top->addStretch();
  auto* lay = new QVBoxLayout(this);
  lay->addLayout(top);
  lay->addWidget(list_, 1);
  lay->addWidget(layers_, 2);
  lay->addWidget(status_);
  connect(add, &QPushButton::clicked, this, &ModelLibraryPanel::browse);
  connect(remove, &QPushButton::clicked, this, &ModelLibraryPanel::removeSelected);
  connect(list_, &QTreeWidget::currentItemChanged, this, [this] {
    int row = list_->indexOfTopLevelItem(list_->currentItem());
    showDetails(row);
    Q_EMIT selectionChanged(selectedModel());
  });
}

bool ModelLibraryPanel::addModel(const QString& dir) {
  for (const auto& m : models_)
    if (QString::fromStdString(m.dir) == dir) return true;
  try {
    if (!reader_) throw ptq::Error("the model library has no checkpoint reader");
    models_.push_back(reader_(dir.toStdString()));
  } catch (const ptq::Error& e) {
    error_ = QString::fromStdString(e.what());
    status_->setText(tr("Could not add the model: %1").arg(error_));
    return false;
  }
  const ModelSummary& s = models_.back();
  auto* item = new QTreeWidgetItem(list_);
  item->setText(0, dir.section('/', -1, -1, QString::SectionSkipEmpty));
  item->setToolTip(0, dir);
  item->setText(1, QString::fromStdString(s.config.architecture));
  item->setText(2, human_count(s.parameters));
  item->setText(3, human_bytes(s.size_on_disk));
  item->setText(4, QString::number(s.config.num_layers));
  error_.clear();
  status_->setText(tr("Added %1").arg(dir));
  list_->setCurrentItem(item);
  Q_EMIT modelAdded(dir);
  return true;
}

bool ModelLibraryPanel::removeModel(const QString& dir) {
  for (size_t i = 0; i < models_.size(); ++i) {
    if (QString::fromStdString(models_[i].dir) != dir) continue;
    models_.erase(models_.begin() + long(i));
    delete list_->takeTopLevelItem(int(i));
    status_->setText(tr("Removed %1 from the library").arg(dir));
    showDetails(list_->indexOfTopLevelItem(list_->currentItem()));
    Q_EMIT modelRemoved(dir);
    return true;
  }
  return false;
}

void ModelLibraryPanel::removeSelected() {
  const QString dir = selectedModel();
  if (!dir.isEmpty()) removeModel(dir);
}

QStringList ModelLibraryPanel::modelDirs() const {
  QStringList l;
  for (const auto& m : models_) l << QString::fromStdString(m.dir);
  return l;
}

int ModelLibraryPanel::modelCount() const { return int(models_.size()); }

QString ModelLibraryPanel::selectedModel() const {
  int row = list_->indexOfTopLevelItem(list_->currentItem());
  return row >= 0 ? QString::fromStdString(models_[size_t(row)].dir) : QString();
}

void ModelLibraryPanel::browse() {
  QString dir = QFileDialog::getExistingDirectory(this, tr("Hugging Face checkpoint folder"));
  if (!dir.isEmpty()) addModel(dir);
}

void ModelLibraryPanel::showDetails(int row) {
  layers_->setRowCount(0);
  if (row < 0 || row >= int(models_.size())) return;
  const auto& ls = models_[size_t(row)].linears;
  layers_->setRowCount(int(ls.size()));
  for (int i = 0; i < int(ls.size()); ++i) {
    layers_->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(ls[size_t(i)].name)));
    layers_->setItem(i, 1, new QTableWidgetItem(QString::fromStdString(ls[size_t(i)].type)));
    layers_->setItem(i, 2, new QTableWidgetItem(QString::number(ls[size_t(i)].out_features)));
    layers_->setItem(i, 3, new QTableWidgetItem(QString::number(ls[size_t(i)].in_features)));
  }
}

}  // namespace ptq::views
