// DivergenceView's figure: title and colour scale, the tokens flowed with their KL shading, the
// worst tokens listed with their context.
#include <QFontMetricsF>
#include <QLinearGradient>
#include <QPainter>
#include <cmath>

#include "views/analyses/divergence_view.h"
#include "views/charts/chart_style.h"
#include "views/charts/plot_frame.h"

namespace ptq::views {

namespace {

// The colour bar under the title: "KL per token: 0 [white → red] max (√ scale)". Returns its height.
double paintScale(QPainter& p, const ChartStyle& st, const QRectF& r, double klMax, bool draw) {
  const QFont small = st.font(0.85);
  const QFontMetricsF fm(small, p.device());
  if (!draw) return fm.height();
  p.setFont(small);
  p.setPen(st.textColor());
  double x = r.left();
  const QString lead = QObject::tr("KL(p_fp‖p_q) per token:  0");
  p.drawText(QPointF(x, r.top() + fm.ascent()), lead);
  x += fm.horizontalAdvance(lead) + st.pt(4);
  QLinearGradient g(x, 0, x + st.pt(90), 0);
  for (int i = 0; i <= 8; ++i) g.setColorAt(i / 8.0, divergenceShade(klMax * (i / 8.0) * (i / 8.0), klMax));
  p.fillRect(QRectF(x, r.top(), st.pt(90), fm.height()), g);
  p.setPen(QPen(QColor(160, 160, 160), st.pt(0.5)));
  p.drawRect(QRectF(x, r.top(), st.pt(90), fm.height()));
  x += st.pt(94);
  p.setPen(st.textColor());
  p.drawText(QPointF(x, r.top() + fm.ascent()),
             QObject::tr("%1 nats (square-root scale); grey: a window's first token, not predicted").arg(formatNumber(klMax, 3)));
  return fm.height();
}

// Flows the tokens into `area`; returns the cells and sets `shown` to how many fit.
std::vector<DivergenceCell> flowTokens(QPainter& p, const ChartStyle& st, const DivergenceData& d, const QRectF& area,
                                       bool draw, int& shown) {
  std::vector<DivergenceCell> cells;
  const QFont body = st.font(0.95);
  const QFontMetricsF fm(body, p.device());
  const double lineH = fm.lineSpacing() * 1.2, pad = fm.horizontalAdvance(' ') * 0.1;
  if (draw) p.setFont(body);
  double x = area.left(), y = area.top();
  shown = 0;
  for (size_t i = 0; i < d.tokens.size(); ++i) {
    const DivergenceToken& t = d.tokens[i];
    const QString text = shownPiece(t.text);
    const double w = std::max(fm.horizontalAdvance(text) + 2 * pad, fm.horizontalAdvance(' '));
    if (x + w > area.right() && x > area.left()) x = area.left(), y += lineH;
    if (y + fm.height() > area.bottom()) break;
    const QRectF cell(x, y, w, fm.height());
    if (draw) {
      if (std::isfinite(t.kl)) p.fillRect(cell, divergenceShade(t.kl, d.klMax));
      p.setPen(std::isfinite(t.kl) ? st.textColor() : QColor(150, 150, 150));
      p.drawText(cell.adjusted(pad, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter, text);
    }
    cells.push_back({cell, int(i)});
    ++shown;
    x += w;
    if (t.text.contains('\n')) x = area.left(), y += lineH;
  }
  return cells;
}

}  // namespace

double DivergenceView::paintWorst(QPainter& p, const QRectF& area, bool draw) const {
  ChartStyle st(p);
  const QFont small = st.font(0.85), bold = st.font(0.85, true);
  const QFontMetricsF fm(small, p.device());
  const std::vector<int> worst = worstTokens(data_, kWorstShown);
  if (!draw) return fm.lineSpacing() * (double(worst.size()) + 1.3);
  p.setPen(st.textColor());
  p.setFont(bold);
  p.drawText(QPointF(area.left(), area.top() + fm.ascent()), tr("Worst tokens: KL (nats), Δp of the correct token, context"));
  double y = area.top() + fm.lineSpacing() * 1.3;
  const double c1 = area.left() + fm.horizontalAdvance("00.  "), c2 = c1 + fm.horizontalAdvance("KL 00.000  "),
               c3 = c2 + fm.horizontalAdvance("Δp −0.000  ");
  int rank = 1;
  for (int i : worst) {
    if (y + fm.height() > area.bottom()) break;
    const DivergenceToken& t = data_.tokens[size_t(i)];
    p.setFont(small);
    p.fillRect(QRectF(area.left(), y, fm.horizontalAdvance("00."), fm.height()), divergenceShade(t.kl, data_.klMax));
    p.drawText(QPointF(area.left(), y + fm.ascent()), QString("%1.").arg(rank++));
    p.drawText(QPointF(c1, y + fm.ascent()), tr("KL %1").arg(formatNumber(t.kl, 4)));
    p.drawText(QPointF(c2, y + fm.ascent()), tr("Δp %1").arg(formatNumber(t.dp, 2)));
    drawElided(p, QRectF(c3, y, area.right() - c3, fm.height()), Qt::AlignLeft | Qt::AlignVCenter,
               tr("#%1  %2").arg(i).arg(tokenContext(data_, i)));
    y += fm.lineSpacing();
  }
  return y - area.top();
}

std::vector<DivergenceCell> DivergenceView::paintAll(QPainter& p, const QRectF& target, bool draw) const {
  if (data_.empty()) return {};
  ChartStyle st(p);
  const QRectF r = target.adjusted(st.pt(6), st.pt(6), -st.pt(6), -st.pt(6));
  const QFont title = st.font(1.1, true), small = st.font(0.85);
  const QFontMetricsF tfm(title, p.device()), sfm(small, p.device());
  double y = r.top();
  if (draw) {
    p.setPen(st.textColor());
    p.setFont(title);
    drawElided(p, QRectF(r.left(), y, r.width(), tfm.height()), Qt::AlignLeft | Qt::AlignTop,
               tr("Where %1 diverges from full precision").arg(data_.run));
    p.setFont(small);
    drawElided(p, QRectF(r.left(), y + tfm.lineSpacing(), r.width(), sfm.height()), Qt::AlignLeft | Qt::AlignTop,
               tr("%1 predicted tokens of %2 (windows of %3 tokens): mean KL %4 nats, max %5")
                   .arg(data_.predicted).arg(data_.text).arg(data_.seqlen).arg(formatNumber(data_.klMean, 4), formatNumber(data_.klMax, 4)));
  }
  y += tfm.lineSpacing() + sfm.lineSpacing();
  y += paintScale(p, st, QRectF(r.left(), y, r.width(), sfm.height()), data_.klMax, draw) + st.pt(6);
  const double worstH = std::min(paintWorst(p, r, false), (r.bottom() - y) * 0.45);
  int shown = 0;
  const QRectF textArea(r.left(), y, r.width(), std::max(0.0, r.bottom() - y - worstH - st.pt(8)));
  std::vector<DivergenceCell> cells = flowTokens(p, st, data_, textArea, draw, shown);
  if (draw && shown < int(data_.tokens.size())) {
    p.setFont(small);
    p.setPen(QColor(120, 120, 120));
    p.drawText(QRectF(textArea.left(), textArea.bottom(), textArea.width(), st.pt(8)), Qt::AlignRight | Qt::AlignTop,
               tr("first %1 of %2 tokens shown").arg(shown).arg(data_.tokens.size()));
  }
  if (draw) paintWorst(p, QRectF(r.left(), r.bottom() - worstH, r.width(), worstH), true);
  return cells;
}

}  // namespace ptq::views
