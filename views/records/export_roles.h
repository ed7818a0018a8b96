#pragma once
// Roles a table model offers to the table export (views/export/table_export.h), so that one
// export serves the results browser and the comparison table alike. QtCore only.
#include <Qt>

namespace ptq::views {

// data(): the cell's number at full precision (a double; CSV writes its shortest exact form,
// not the rounded display text). Absent: the display text is exact already.
constexpr int kExactValueRole = Qt::UserRole + 40;
// headerData(Horizontal): +1 when higher values of the column are better, -1 when lower are,
// absent / 0 when neither (LaTeX sets the best value of each such column in bold).
constexpr int kBetterRole = Qt::UserRole + 41;
// data() of any cell of a row: true for a reference row (a full-precision baseline), which the
// best-in-column marking leaves out (a paper bolds the best quantized run, not the baseline).
constexpr int kReferenceRowRole = Qt::UserRole + 42;

}  // namespace ptq::views
