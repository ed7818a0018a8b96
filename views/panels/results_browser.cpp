#include "views/panels/results_browser.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QAction>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <set>

#include "core/runtime/errors.h"
#include "core/records/json_util.h"
#include "core/records/result_store.h"
#include "views/records/record_fields.h"
#include "views/records/results_model.h"

namespace ptq::views {

ResultsBrowser::ResultsBrowser(QWidget* parent) : QWidget(parent) {
  model_ = new ResultsModel(this);
  filter_ = new ResultsFilter(this);
  filter_->setSourceModel(model_);

  dirEdit_ = new QLineEdit(this);
  dirEdit_->setObjectName("resultsDir");
  dirEdit_->setPlaceholderText(tr("results directory"));
  auto* open = new QPushButton(tr("Open…"), this);
  open->setObjectName("openResults");
  text_ = new QLineEdit(this);
  text_->setObjectName("filter");
  text_->setPlaceholderText(tr("filter: words matched in any column (model, method, calib, run id…)"));
  text_->setClearButtonEnabled(true);
  method_ = new QComboBox(this);
  method_->setObjectName("methodFilter");
  method_->addItem(tr("all methods"), QString());

  table_ = new QTableView(this);
  table_->setObjectName("results");
  table_->setModel(filter_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(ResultsModel::Date, Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  addExportAction();
  status_ = new QLabel(this);
  status_->setObjectName("resultsStatus");
  status_->setWordWrap(true);

  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Results:"), this));
  top->addWidget(dirEdit_, 1);
  top->addWidget(open);
  auto* filters = new QHBoxLayout;
  filters->addWidget(text_, 1);
  filters->addWidget(method_);
  auto* lay = new QVBoxLayout(this);
  lay->addLayout(top);
  lay->addLayout(filters);
  lay->addWidget(table_, 1);
  lay->addWidget(status_);

  watcher_ = new QFileSystemWatcher(this);
  rescan_ = new QTimer(this);
  rescan_->setSingleShot(true);
  rescan_->setInterval(200);  // a burst of changes (temp file, rename) → one rescan
  connect(watcher_, &QFileSystemWatcher::directoryChanged, rescan_, qOverload<>(&QTimer::start));
  connect(rescan_, &QTimer::timeout, this, &ResultsBrowser::reload);
  connect(open, &QPushButton::clicked, this, [this] {
    QString d = QFileDialog::getExistingDirectory(this, tr("Open results directory"), dir_);
    if (!d.isEmpty()) openDirectory(d);
  });
  connect(dirEdit_, &QLineEdit::editingFinished, this, [this] {
    if (!asking_) openTypedDirectory(dirEdit_->text().trimmed());
  });
  connect(text_, &QLineEdit::textChanged, this, [this](const QString& t) {
    filter_->setText(t);
    updateStatus();
    Q_EMIT filteredChanged();
  });
  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    filter_->setMethod(method_->currentData().toString());
    updateStatus();
    Q_EMIT filteredChanged();
  });
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          [this] { Q_EMIT selectionChanged(); });
}

bool ResultsBrowser::openDirectory(const QString& dir) {
  try {
    ensure_results_dir(dir.toStdString());
  } catch (const Error& e) {
    error_ = QString::fromStdString(e.what());
    status_->setText(error_);
    return false;
  }
  error_.clear();
  if (!dir_.isEmpty()) watcher_->removePath(dir_);
  dir_ = QDir(dir).absolutePath();
  dirEdit_->setText(dir_);
  watcher_->addPath(dir_);
  reload();
  Q_EMIT directoryChanged(dir_);
  return true;
}

bool ResultsBrowser::openTypedDirectory(const QString& dir) {
  if (dir.isEmpty() || QDir(dir).absolutePath() == dir_) return true;
  if (!QFileInfo::exists(dir)) {
    asking_ = true;  // the question takes the focus: the field's editingFinished comes again
    const bool create = confirmCreate_ ? confirmCreate_(dir)
                                       : QMessageBox::question(this, tr("Results directory"),
                                                               tr("'%1' does not exist. Create it as the results directory?").arg(dir),
                                                               QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
    asking_ = false;
    if (!create) {
      dirEdit_->setText(dir_);
      status_->setText(tr("not opened: '%1' does not exist").arg(dir));
      return false;
    }
  }
  if (openDirectory(dir)) return true;
  dirEdit_->setText(dir_);
  return false;
}

void ResultsBrowser::reload() {
  std::set<QString> selected;
  for (const auto& r : selectedRecords()) selected.insert(text(r, "run_id"));
  std::vector<std::string> problems;
  std::vector<ResultsModel::Entry> entries;
  if (!dir_.isEmpty()) {
    try {
      for (auto& s : list_records(dir_.toStdString(), &problems))
        entries.push_back({QString::fromStdString(s.path), std::move(s.record)});
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
  }
  problems_.clear();
  for (const auto& p : problems) problems_ << QString::fromStdString(p);
  model_->setRecords(std::move(entries));
  refreshMethods();
  for (const QString& id : selected) selectRunId(id);
  updateStatus();
  Q_EMIT filteredChanged();
  Q_EMIT selectionChanged();
}

void ResultsBrowser::addRecordFile(const QString& path) {
  try {
    nlohmann::json r = read_json_file(path.toStdString());
    if (r.value("schema", "") != kResultSchemaName) return;
    model_->upsert(path, r);
  } catch (const Error& e) {
    problems_ << path + ": " + QString::fromUtf8(e.what());
  }
  refreshMethods();
  updateStatus();
  Q_EMIT filteredChanged();
}

void ResultsBrowser::refreshMethods() {
  std::set<QString> methods;
  for (const auto& r : model_->records()) methods.insert(methodName(r));
  const QString current = method_->currentData().toString();
  QSignalBlocker block(method_);
  while (method_->count() > 1) method_->removeItem(1);
  for (const QString& m : methods) method_->addItem(m, m);
  int i = method_->findData(current);
  method_->setCurrentIndex(i < 0 ? 0 : i);
  if (i < 0 && !current.isEmpty()) filter_->setMethod({});
}

void ResultsBrowser::updateStatus() {
  QString s = tr("%1 of %2 records shown").arg(filter_->rowCount()).arg(model_->rowCount());
  if (!problems_.isEmpty())
    s += tr("; %1 file(s) skipped: %2").arg(problems_.size()).arg(problems_.join("; "));
  status_->setText(s);
  status_->setToolTip(problems_.join('\n'));
}

std::vector<nlohmann::json> ResultsBrowser::selectedRecords() const {
  std::vector<nlohmann::json> out;
  auto rows = table_->selectionModel()->selectedRows();
  std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
  for (const QModelIndex& i : rows) out.push_back(model_->record(filter_->mapToSource(i).row()));
  return out;
}

std::vector<nlohmann::json> ResultsBrowser::filteredRecords() const {
  std::vector<nlohmann::json> out;
  for (int r = 0; r < filter_->rowCount(); ++r) out.push_back(model_->record(filter_->mapToSource(filter_->index(r, 0)).row()));
  return out;
}

// The table's context menu: "Export checkpoint…" for one selected quantized run.
void ResultsBrowser::addExportAction() {
  export_ = new QAction(tr("Export checkpoint…"), this);
  export_->setObjectName("exportCheckpoint");
  export_->setToolTip(tr("Quantize this run again and write it as a GPTQ, AWQ or compressed-tensors folder"));
  export_->setEnabled(false);
  table_->setContextMenuPolicy(Qt::ActionsContextMenu);
  table_->addAction(export_);
  connect(export_, &QAction::triggered, this, [this] {
    const auto sel = selectedRecords();
    if (sel.size() == 1) Q_EMIT exportRequested(sel.front());
  });
  connect(this, &ResultsBrowser::selectionChanged, this, [this] {
    const auto sel = selectedRecords();
    export_->setEnabled(sel.size() == 1 && sel.front().value("method", std::string("fp")) != "fp" &&
                        sel.front().contains("spec"));
  });
}

void ResultsBrowser::selectRunId(const QString& run_id) {
  int row = model_->rowOfRunId(run_id);
  if (row < 0) return;
  QModelIndex i = filter_->mapFromSource(model_->index(row, 0));
  if (i.isValid())
    table_->selectionModel()->select(i, QItemSelectionModel::Select | QItemSelectionModel::Rows);
}

}  // namespace ptq::views
