#pragma once
// Linked selection between the trade-off view and the results table (issue 15): clicking a point
// selects that run's row (alone) and scrolls to it, so the views fed the selected records (per-layer
// error, kurtosis) open it; selecting rows rings their points in the trade-off view.
namespace ptq::views {

class CalibrationStudyView;
class ResultsBrowser;
class TradeoffView;

void linkSelection(TradeoffView* tradeoff, ResultsBrowser* results);
// Clicking a point of the calibration study selects that run's row (as the trade-off view does).
void linkSelection(CalibrationStudyView* study, ResultsBrowser* results);

}  // namespace ptq::views
