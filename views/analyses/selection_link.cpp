#include "views/analyses/selection_link.h"

#include <QItemSelectionModel>
#include <QTableView>

#include "views/analyses/calibration_study_view.h"
#include "views/analyses/tradeoff_view.h"
#include "views/panels/results_browser.h"
#include "views/records/record_fields.h"

namespace ptq::views {

namespace {

// Selects the run's row alone and scrolls to it.
void selectRunRow(ResultsBrowser* results, const QString& runId) {
  results->table()->selectionModel()->clearSelection();
  results->selectRunId(runId);
  const QModelIndexList rows = results->table()->selectionModel()->selectedRows();
  if (!rows.isEmpty()) results->table()->scrollTo(rows.first());
}

}  // namespace

void linkSelection(CalibrationStudyView* study, ResultsBrowser* results) {
  QObject::connect(study, &CalibrationStudyView::runClicked, results,
                   [results](const QString& runId) { selectRunRow(results, runId); });
}

void linkSelection(TradeoffView* tradeoff, ResultsBrowser* results) {
  QObject::connect(tradeoff, &TradeoffView::runClicked, results,
                   [results](const QString& runId) { selectRunRow(results, runId); });
  QObject::connect(results, &ResultsBrowser::selectionChanged, tradeoff, [tradeoff, results] {
    QStringList ids;
    for (const auto& r : results->selectedRecords()) ids << text(r, "run_id");
    tradeoff->highlightRuns(ids);
  });
}

}  // namespace ptq::views
