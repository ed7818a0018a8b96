#include "views/panels/jobs_panel.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <set>

#include "views/jobs/job_queue.h"
#include "views/jobs/job_table_model.h"
#include "views/jobs/slurm_sweeps.h"
#include "views/jobs/slurm_task_model.h"

namespace ptq::views {

namespace {

// The progress column as a progress bar (the fraction from JobTableModel::FractionRole).
class ProgressDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* p, const QStyleOptionViewItem& opt, const QModelIndex& index) const override {
    QStyleOptionProgressBar bar;
    bar.rect = opt.rect.adjusted(2, 3, -2, -3);
    bar.minimum = 0;
    bar.maximum = 1000;
    bar.progress = int(index.data(JobTableModel::FractionRole).toDouble() * 1000);
    bar.text = index.data().toString();
    bar.textVisible = true;
    bar.state = opt.state | QStyle::State_Horizontal;
    bar.palette = opt.palette;
    if (index.data(JobTableModel::StatusRole).toInt() == int(JobStatus::Failed)) {
      // A failed job is red, up to where it got; a failure before any progress still shows red.
      bar.palette.setColor(QPalette::Highlight, QColor(200, 40, 40));
      bar.palette.setColor(QPalette::Base, QColor(250, 215, 215));
      bar.palette.setColor(QPalette::Window, QColor(250, 215, 215));
      p->fillRect(bar.rect, QColor(250, 215, 215));
    }
    QApplication::style()->drawControl(QStyle::CE_ProgressBar, &bar, p);
  }
};

}  // namespace

JobsPanel::JobsPanel(JobQueue* queue, QWidget* parent) : QWidget(parent), queue_(queue) {
  table_ = new QTableView(this);
  table_->setObjectName("jobs");
  model_ = new JobTableModel(queue, this);
  table_->setModel(model_);
  table_->setItemDelegateForColumn(JobTableModel::Progress, new ProgressDelegate(table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  auto* header = table_->horizontalHeader();
  header->setSectionResizeMode(QHeaderView::ResizeToContents);
  header->setSectionResizeMode(JobTableModel::Title, QHeaderView::Stretch);
  header->setSectionResizeMode(JobTableModel::Progress, QHeaderView::Fixed);
  header->resizeSection(JobTableModel::Progress, 140);

  auto* cancel = new QPushButton(tr("Cancel"), this);
  cancel->setObjectName("cancelJob");
  auto* clear = new QPushButton(tr("Clear finished"), this);
  clear->setObjectName("clearJobs");
  auto* buttons = new QHBoxLayout;
  buttons->addStretch();
  buttons->addWidget(cancel);
  buttons->addWidget(clear);
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(table_, 1);
  lay->addLayout(buttons);
  connect(cancel, &QPushButton::clicked, this, &JobsPanel::cancelSelected);
  auto* eta = new QTimer(this);  // the ETA counts down between progress reports
  eta->setInterval(1000);
  connect(eta, &QTimer::timeout, model_, &JobTableModel::refreshEta);
  eta->start();
  connect(clear, &QPushButton::clicked, queue_, &JobQueue::removeFinished);
}

void JobsPanel::cancelSelected() {
  std::set<int> ids;
  for (const QModelIndex& i : table_->selectionModel()->selectedRows()) ids.insert(model_->jobIdAt(i.row()));
  for (int id : ids) queue_->cancel(id);
}

void JobsPanel::setSlurm(SlurmSweeps* sweeps) {
  if (slurm_ || !sweeps) return;
  slurm_ = sweeps;
  auto* title = new QLabel(tr("<b>Slurm cluster</b>: one row per array task (states from squeue / sacct and the records)"), this);
  slurmTable_ = new QTableView(this);
  slurmTable_->setObjectName("slurmTasks");
  slurmTable_->setModel(new SlurmTaskModel(sweeps, slurmTable_));
  slurmTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
  slurmTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  slurmTable_->verticalHeader()->hide();
  slurmTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  slurmTable_->horizontalHeader()->setStretchLastSection(true);
  slurmMessage_ = new QLabel(this);
  slurmMessage_->setObjectName("slurmMessage");
  slurmMessage_->setWordWrap(true);
  auto* cancel = new QPushButton(tr("Cancel on cluster"), this);
  cancel->setObjectName("cancelSlurm");
  auto* refresh = new QPushButton(tr("Refresh"), this);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(slurmMessage_, 1);
  buttons->addWidget(refresh);
  buttons->addWidget(cancel);
  auto* lay = static_cast<QVBoxLayout*>(layout());
  lay->addWidget(title);
  lay->addWidget(slurmTable_, 1);
  lay->addLayout(buttons);
  connect(cancel, &QPushButton::clicked, this, &JobsPanel::cancelSelectedOnCluster);
  connect(refresh, &QPushButton::clicked, sweeps, &SlurmSweeps::poll);
}

void JobsPanel::cancelSelectedOnCluster() {
  if (!slurmTable_) return;
  auto* model = static_cast<SlurmTaskModel*>(slurmTable_->model());
  std::set<int> ids;
  for (const QModelIndex& i : slurmTable_->selectionModel()->selectedRows()) ids.insert(model->sweepIdAt(i.row()));
  QStringList done;
  for (int id : ids) {
    try {
      slurm_->cancel(id);
      done << (slurm_->sweep(id) ? slurm_->sweep(id)->title : QString::number(id));
    } catch (const std::exception& e) {
      slurmMessage_->setText(QString::fromUtf8(e.what()));
      return;
    }
  }
  if (!done.isEmpty()) slurmMessage_->setText(tr("scancel sent: %1").arg(done.join(", ")));
}

}  // namespace ptq::views
