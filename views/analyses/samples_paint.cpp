// SamplesView's figure: the prompt, then one column per continuation (full precision first), tokens
// flowed left to right with their probability shading and the first diverging token framed.
#include <QFontMetricsF>
#include <QImage>
#include <QLinearGradient>
#include <QListWidget>
#include <QPainter>
#include <cmath>
#include <set>

#include "views/analyses/samples_view.h"
#include "views/charts/chart_style.h"
#include "views/charts/figure_canvas.h"

namespace ptq::views {
namespace {

const QColor kDivergeColor(200, 30, 30);

struct Column {
  QString header, note;
  const SampleText* text;
  std::set<int> diverging;  // token indices framed in red
};

// Flows the tokens of one column into [x0, x1] from y; returns the cells (clipped at yMax).
void flowTokens(const Column& c, int column, const QFontMetricsF& fm, double x0, double x1, double y, double yMax,
                std::vector<SampleCell>& cells) {
  const double lineH = fm.lineSpacing() * 1.3, pad = fm.horizontalAdvance(' ') * 0.15;
  double x = x0;
  for (int i = 0; i < c.text->tokens.size(); ++i) {
    const QString tok = c.text->tokens[i];
    QString shown = tok;
    shown.replace('\n', QStringLiteral("↵"));
    const double w = std::max(fm.horizontalAdvance(shown) + 2 * pad, fm.horizontalAdvance(' '));
    if (x + w > x1 && x > x0) x = x0, y += lineH;
    if (y + fm.height() > yMax) return;
    const double p = size_t(i) < c.text->probs.size() ? c.text->probs[size_t(i)] : std::nan("");
    cells.push_back({QRectF(x, y, w, fm.height()), tok, p, column, i, c.diverging.count(i) > 0});
    x += w;
    if (tok.contains('\n')) x = x0, y += lineH;
  }
}

void paintLegend(QPainter& p, const ChartStyle& st, const QRectF& r) {
  const QFont small = st.font(0.85);
  p.setFont(small);
  const QFontMetricsF fm(small, p.device());
  double x = r.left();
  const double h = fm.height();
  p.setPen(st.textColor());
  const QString lead = QObject::tr("p(chosen token):  1");
  p.drawText(QPointF(x, r.top() + fm.ascent()), lead);
  x += fm.horizontalAdvance(lead) + st.pt(4);
  QLinearGradient g(x, 0, x + st.pt(90), 0);
  g.setColorAt(0, sampleShade(1.0));
  g.setColorAt(1, sampleShade(0.0));
  p.fillRect(QRectF(x, r.top(), st.pt(90), h), g);
  p.setPen(QPen(QColor(160, 160, 160), st.pt(0.5)));
  p.drawRect(QRectF(x, r.top(), st.pt(90), h));
  x += st.pt(90) + st.pt(4);
  p.setPen(st.textColor());
  p.drawText(QPointF(x, r.top() + fm.ascent()), QStringLiteral("0"));
  x += fm.horizontalAdvance("0") + st.pt(18);
  p.setPen(QPen(kDivergeColor, st.pt(1.5)));
  p.drawRect(QRectF(x, r.top(), st.pt(14), h));
  x += st.pt(14) + st.pt(4);
  p.setPen(st.textColor());
  p.drawText(QPointF(x, r.top() + fm.ascent()), QObject::tr("first token that differs from full precision"));
}

// The prompt: its end (what the continuations follow), at most four lines, under a heading.
// Returns the y below it.
double paintPromptText(QPainter& p, const ChartStyle& st, QString prompt, double left, double y, double width, bool draw) {
  const QFont body = st.font(1.0), bold = st.font(1.0, true);
  const QFontMetricsF fm(body, p.device());
  if (prompt.size() > 400) prompt = QStringLiteral("…") + prompt.right(399);
  const double h = std::min(4 * fm.lineSpacing(), fm.boundingRect(QRectF(0, 0, width, 1e6), Qt::TextWordWrap, prompt).height());
  const QRectF box(left, y + fm.lineSpacing(), width, h);
  if (draw) {
    p.setFont(bold);
    p.setPen(st.textColor());
    p.drawText(QPointF(left, y + fm.ascent()), QObject::tr("Prompt"));
    p.setFont(body);
    p.setPen(QColor(70, 70, 70));
    p.save();
    p.setClipRect(box);
    p.drawText(box, Qt::TextWordWrap | Qt::AlignBottom, prompt);
    p.restore();
  }
  return box.bottom() + st.pt(10);
}

}  // namespace

std::vector<SampleCell> SamplesView::layout(const QRectF& target) const {
  // Measured on an image with the canvas's resolution, so the cells are where the screen has them.
  QImage img(1, 1, QImage::Format_ARGB32);
  img.setDotsPerMeterX(int(std::lround(canvas_->logicalDpiX() / 0.0254)));
  img.setDotsPerMeterY(int(std::lround(canvas_->logicalDpiY() / 0.0254)));
  QPainter p(&img);
  return paintPrompt(p, target, false);
}

std::vector<SampleCell> SamplesView::paintPrompt(QPainter& p, const QRectF& target, bool draw) const {
  std::vector<SampleCell> cells;
  const int pi = currentPrompt();
  if (pi < 0 || pi >= int(data_.prompts.size())) return cells;
  const SamplePrompt& sp = data_.prompts[size_t(pi)];
  const ChartStyle st(p);
  const QFont body = st.font(1.0), bold = st.font(1.0, true), small = st.font(0.85);
  const QFontMetricsF fm(body, p.device()), fmSmall(small, p.device());
  const double m = st.pt(8), left = target.left() + m, width = target.width() - 2 * m;
  double y = target.top() + m;

  y = paintPromptText(p, st, sp.prompt, left, y, width, draw);

  std::vector<Column> cols;
  cols.push_back({tr("full precision"), tr("reference"), &sp.fp, {}});
  for (int r : shownRuns()) {
    const RunSample* s = sp.of(r);
    if (!s) continue;
    Column c{data_.runs[r], {}, &s->text, {}};
    const double mean = s->text.meanProb();
    c.note = s->firstDivergence < 0 ? tr("identical to full precision") : tr("differs from token %1").arg(s->firstDivergence);
    if (!std::isnan(mean)) c.note += tr(" · mean p %1").arg(mean, 0, 'f', 2);
    if (s->firstDivergence >= 0) c.diverging.insert(s->firstDivergence), cols[0].diverging.insert(s->firstDivergence);
    cols.push_back(std::move(c));
  }
  const double fpMean = sp.fp.meanProb();
  if (!std::isnan(fpMean)) cols[0].note += tr(" · mean p %1").arg(fpMean, 0, 'f', 2);

  const double gap = st.pt(12), colW = (width - gap * double(cols.size() - 1)) / double(cols.size());
  const double legendH = fmSmall.height() + st.pt(6), yMax = target.bottom() - m - legendH;
  const double yTokens = y + fm.lineSpacing() + fmSmall.lineSpacing() + st.pt(6);
  for (size_t c = 0; c < cols.size(); ++c) {
    const double x0 = left + double(c) * (colW + gap);
    if (draw) {
      p.setPen(st.textColor());
      p.setFont(bold);
      p.drawText(QPointF(x0, y + fm.ascent()), QFontMetricsF(bold, p.device()).elidedText(cols[c].header, Qt::ElideRight, colW));
      p.setFont(small);
      p.setPen(QColor(100, 100, 100));
      p.drawText(QPointF(x0, y + fm.lineSpacing() + fmSmall.ascent()), fmSmall.elidedText(cols[c].note, Qt::ElideRight, colW));
      p.setPen(QPen(QColor(200, 200, 200), st.pt(0.5)));
      p.drawLine(QPointF(x0, yTokens - st.pt(3)), QPointF(x0 + colW, yTokens - st.pt(3)));
    }
    flowTokens(cols[c], int(c), fm, x0, x0 + colW, yTokens, yMax, cells);
  }
  if (draw) {
    p.setFont(body);
    for (const SampleCell& cell : cells) {
      p.fillRect(cell.rect, sampleShade(cell.prob));
      QString shown = cell.text;
      shown.replace('\n', QStringLiteral("↵"));
      p.setPen(st.textColor());
      p.drawText(cell.rect, Qt::AlignCenter, shown);
      if (cell.diverges) {
        p.setPen(QPen(kDivergeColor, st.pt(1.5)));
        p.drawRect(cell.rect);
      }
    }
    paintLegend(p, st, QRectF(left, target.bottom() - m - fmSmall.height(), width, fmSmall.height()));
  }
  return cells;
}

}  // namespace ptq::views
