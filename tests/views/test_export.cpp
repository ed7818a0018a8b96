// Qt Test: one export routine behind PNG, SVG and PDF for every view (the PNG has the requested
// pixel size, the SVG parses with an <svg> root of the figure's size in mm, the PDF has exactly
// one page of the figure's size), fonts scale with the physical size, bad paths are named, and
// the CSV / LaTeX of a two-row table are exact.
#include <QDir>
#include <QFile>
#include <QComboBox>
#include <QImage>
#include <QLineEdit>
#include <QSpinBox>
#include <QRegularExpression>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>
#include <cmath>

#include "sample_records.h"
#include "views/analyses/analysis_view.h"
#include "views/charts/chart_style.h"
#include "views/analyses/comparison_table.h"
#include "views/export/export_dialog.h"
#include "views/export/figure_export.h"
#include "views/records/settings.h"
#include "views/export/table_export.h"
#include "views/analyses/view_catalog.h"

using namespace ptq::views;
Q_DECLARE_METATYPE(FigureSize)

namespace {
std::unique_ptr<AnalysisView> makeView(const QString& id) {
  const ViewEntry* e = findView(id);
  std::unique_ptr<AnalysisView> v(e ? e->make(nullptr) : nullptr);
  if (v) v->setRecords(sample::demoSet());
  return v;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Page objects of a PDF: "/Type /Page" not followed by "s" (that is the /Pages tree).
int pdfPages(const QByteArray& pdf) {
  static const QRegularExpression re(QStringLiteral("/Type\\s*/Page(?![a-zA-Z])"));
  return static_cast<int>(QString::fromLatin1(pdf).count(re));
}
}  // namespace

class TestExport : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void figure_data() {
    QTest::addColumn<QString>("view");
    QTest::addColumn<FigureSize>("size");
    FigureSize custom{100.0, 50.0, 150, 10.0};
    for (const auto& e : viewCatalog()) {
      QTest::addRow("%s single column", qPrintable(e.id)) << e.id << FigureSize::singleColumn();
      QTest::addRow("%s double column", qPrintable(e.id)) << e.id << FigureSize::doubleColumn();
    }
    QTest::addRow("tradeoff 100x50mm 150dpi") << QString("tradeoff") << custom;
  }
  void figure() {
    QFETCH(QString, view);
    QFETCH(FigureSize, size);
    auto v = makeView(view);
    QVERIFY(v);
    QTemporaryDir dir;
    QString error;
    int wantW = static_cast<int>(std::lround(size.width_mm / 25.4 * size.dpi));
    int wantH = static_cast<int>(std::lround(size.height_mm / 25.4 * size.dpi));
    // PNG: exact pixel size, resolution recorded.
    QString png = dir.filePath(view + ".png");
    QVERIFY2(exportFigure(*v, png, size, &error), qPrintable(error));
    QImage img(png);
    QCOMPARE(img.width(), wantW);
    QCOMPARE(img.height(), wantH);
    QVERIFY(std::fabs(img.dotsPerMeterX() * 0.0254 - size.dpi) < 0.5);
    // Something was drawn: not all white.
    int dark = 0;
    for (int y = 0; y < img.height(); y += 4)
      for (int x = 0; x < img.width(); x += 4) dark += qGray(img.pixel(x, y)) < 128;
    QVERIFY2(dark > 20, qPrintable(QString::number(dark)));
    // SVG: parses, <svg> root with the physical size.
    QString svg = dir.filePath(view + ".svg");
    QVERIFY2(exportFigure(*v, svg, size, &error), qPrintable(error));
    QXmlStreamReader xml(readAll(svg));
    QString root, width;
    int texts = 0;
    while (!xml.atEnd()) {
      if (xml.readNext() != QXmlStreamReader::StartElement) continue;
      if (root.isEmpty()) { root = xml.name().toString(); width = xml.attributes().value("width").toString(); }
      texts += xml.name() == QLatin1String("text");
    }
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QCOMPARE(root, QString("svg"));
    QVERIFY2(width.endsWith("mm") && std::fabs(width.chopped(2).toDouble() - wantW * 25.4 / size.dpi) < 0.05, qPrintable(width));
    QVERIFY(texts > 3);
    // PDF: one page, MediaBox of the figure's size in points.
    QString pdf = dir.filePath(view + ".pdf");
    QVERIFY2(exportFigure(*v, pdf, size, &error), qPrintable(error));
    QByteArray bytes = readAll(pdf);
    QVERIFY(bytes.startsWith("%PDF-"));
    QCOMPARE(pdfPages(bytes), 1);
    QRegularExpressionMatch box = QRegularExpression("/MediaBox\\s*\\[\\s*0\\s+0\\s+([\\d.]+)\\s+([\\d.]+)\\s*\\]").match(QString::fromLatin1(bytes));
    QVERIFY(box.hasMatch());
    QVERIFY2(std::fabs(box.captured(1).toDouble() - size.width_mm / 25.4 * 72) < 1.0, qPrintable(box.captured(0)));
    QVERIFY2(std::fabs(box.captured(2).toDouble() - size.height_mm / 25.4 * 72) < 1.0, qPrintable(box.captured(0)));
    // Nothing else left in the directory (no temporaries).
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files).size(), 3);
  }

  void presets() {
    QCOMPARE(FigureSize::singleColumn().width_mm, 88.9);
    QCOMPARE(FigureSize::doubleColumn().width_mm, 177.8);
    QCOMPARE(FigureSize::singleColumn().widthPx(), 1050);  // 3.5 in at 300 dpi
    QCOMPARE(FigureSize::doubleColumn().widthPx(), 2100);
    QVERIFY(FigureSize::singleColumn().font_pt >= 7 && FigureSize::doubleColumn().font_pt >= 7);
  }

  void fontsFollowPhysicalSize_data() {
    QTest::addColumn<double>("dpi");
    QTest::addColumn<double>("pt");
    QTest::addColumn<int>("pixels");
    QTest::newRow("8pt at 300dpi") << 300.0 << 8.0 << 33;
    QTest::newRow("8pt at 600dpi") << 600.0 << 8.0 << 67;
    QTest::newRow("9pt at 96dpi") << 96.0 << 9.0 << 12;
  }
  void fontsFollowPhysicalSize() {
    QFETCH(double, dpi);
    QFETCH(double, pt);
    QFETCH(int, pixels);
    QFont base;
    base.setPointSizeF(pt);
    ChartStyle s(dpi, base);
    QCOMPARE(s.font().pixelSize(), pixels);
    QVERIFY(std::fabs(s.pt(72) - dpi) < 1e-9);
  }

  void badTargets_data() {
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("view");
    QTest::addColumn<QString>("message");
    QTest::newRow("unknown suffix") << "fig.bmp" << "tradeoff" << "unknown format 'bmp'";
    QTest::newRow("missing directory") << "/nonexistent/dir/fig.png" << "tradeoff" << "directory '/nonexistent/dir' does not exist";
    QTest::newRow("unwritable directory") << "/proc/fig.svg" << "tradeoff" << "cannot write '/proc/fig.svg'";
    QTest::newRow("view without data") << "fig.png" << "empty-kurtosis" << "no data";
  }
  void badTargets() {
    QFETCH(QString, path);
    QFETCH(QString, view);
    QFETCH(QString, message);
    std::unique_ptr<AnalysisView> v;
    if (view == "empty-kurtosis")
      v.reset(findView("kurtosis")->make(nullptr));
    else
      v = makeView(view);
    QTemporaryDir dir;
    QString target = path.startsWith('/') ? path : dir.filePath(path);
    QString error;
    QVERIFY(!exportFigure(*v, target, FigureSize::singleColumn(), &error));
    QVERIFY2(error.contains(message), qPrintable(error));
    QVERIFY(!QFile::exists(target));
  }

  void csvAndLatex() {
    TextTable t{{"model", "method", "ppl"}, {{"austen-tiny", "gptq", "93.10"}, {"a,b \"x\"", "rtn_1 & 50%", "120.5"}}};
    QCOMPARE(toCsv(t), QString("model,method,ppl\n"
                               "austen-tiny,gptq,93.10\n"
                               "\"a,b \"\"x\"\"\",rtn_1 & 50%,120.5\n"));
    QCOMPARE(toLatexTabular(t), QString("\\begin{tabular}{llr}\n"
                                 "\\toprule\n"
                                 "model & method & ppl \\\\\n"
                                 "\\midrule\n"
                                 "austen-tiny & gptq & 93.10 \\\\\n"
                                 "a,b \"x\" & rtn\\_1 \\& 50\\% & 120.5 \\\\\n"
                                 "\\bottomrule\n"
                                 "\\end{tabular}\n"));
    QCOMPARE(latexEscape("Δppl ~ {a}^#$\\"), QString("$\\Delta$ppl \\textasciitilde{} \\{a\\}\\textasciicircum{}\\#\\$\\textbackslash{}"));
    QVERIFY(toLatex(t, "Runs", "tab:runs").startsWith("% needs \\usepackage{booktabs}\n\\begin{table}\n\\centering\n\\caption{Runs}\n\\label{tab:runs}\n"));
    // Without a caption or label the table is still complete: a default caption and label.
    const QString whole = toLatex(t);
    QVERIFY2(whole.contains("\\caption{Post-training quantization results (2 runs).}\n\\label{tab:ptq-results}\n\\begin{tabular}"), qPrintable(whole));
    QVERIFY(whole.endsWith("\\end{tabular}\n\\end{table}\n"));
  }

  void tableFiles() {
    ComparisonTableView v;
    v.setRecords({sample::fpRecord(4e6, 90), sample::quantRecord("rtn", 3, 1e6, 120, 3.2)});
    QTemporaryDir dir;
    QString error;
    QVERIFY2(v.exportTo(dir.filePath("runs.csv"), &error), qPrintable(error));
    QVERIFY2(v.exportTo(dir.filePath("runs.tex"), &error), qPrintable(error));
    // CSV: every number at full precision (30.000000000000004 is what 100 × 0.3 is; the table shows 30.0).
    QCOMPARE(QString::fromUtf8(readAll(dir.filePath("runs.csv"))),
             QString("model,method,bits,group,format,PPL,ΔPPL,size (MB),bits/weight (all),bits/weight (linear),KL mean,"
                     "top-1 (%),acc lambada (%)\n"
                     "austen-tiny,fp,16,,float32,90,0,4,16,,,,50\n"
                     "austen-tiny,rtn,3,128,int,120,30,1,3.2,,0.1,89,30.000000000000004\n"));
    QString tex = QString::fromUtf8(readAll(dir.filePath("runs.tex")));
    QVERIFY2(tex.contains("\\begin{table}\n\\centering\n\\caption{"), qPrintable(tex));
    QVERIFY2(tex.contains("\\begin{tabular}{llrrlrrrrlrrr}\n\\toprule\nmodel & method & bits & group & format & PPL & $\\Delta$PPL"), qPrintable(tex));
    // The only quantized run is the best of every column that has a direction; the baseline is never bold.
    QVERIFY2(tex.contains("austen-tiny & rtn & 3 & 128 & int & \\textbf{120.00} & \\textbf{+30.00} & \\textbf{1.000} & "
                          "\\textbf{3.20} &  & \\textbf{0.1000} & \\textbf{89.0} & \\textbf{30.0} \\\\\n"), qPrintable(tex));
    QVERIFY(tex.contains("austen-tiny & fp & 16 &  & float32 & 90.00 & 0.00 & 4.000 & 16.00 &  &  &  & 50.0 \\\\\n"));
    QVERIFY(tex.endsWith("\\bottomrule\n\\end{tabular}\n\\end{table}\n"));
    QVERIFY(!v.exportTo(dir.filePath("runs.xls"), &error));
    QVERIFY(error.contains("unknown format 'xls'"));
    QVERIFY(!v.exportTo("/nonexistent/runs.csv", &error));
    QVERIFY(error.contains("/nonexistent/runs.csv"));
  }

  // One export dialog: DPI only for PNG, the choices remembered, an error shown in the dialog.
  void exportDialog() {
    QTemporaryDir dir;
    QSettings store(dir.filePath("s.ini"), QSettings::IniFormat);
    Settings settings(&store);
    auto v = makeView("tradeoff");
    {
      ExportDialog d(*v, settings);
      QCOMPARE(d.format()->currentData().toString(), QString("pdf"));
      QVERIFY(!d.dpi()->isEnabled());
      d.format()->setCurrentIndex(d.format()->findData("png"));
      QVERIFY(d.dpi()->isEnabled());
      d.dpi()->setValue(150);
      d.preset()->setCurrentIndex(d.preset()->findData("double-column"));
      d.fileName()->setText("/nonexistent/dir/fig");
      QVERIFY(!d.exportNow());
      QVERIFY2(d.error().contains("does not exist"), qPrintable(d.error()));
      QVERIFY(d.result() != QDialog::Accepted);
      d.fileName()->setText(dir.filePath("fig.svg"));  // the format's suffix replaces it
      QCOMPARE(d.path(), dir.filePath("fig.png"));
      QVERIFY2(d.exportNow(), qPrintable(d.error()));
      QCOMPARE(QImage(dir.filePath("fig.png")).width(), int(std::lround(177.8 / 25.4 * 150)));
    }
    ExportDialog again(*v, settings);
    QCOMPARE(again.format()->currentData().toString(), QString("png"));
    QCOMPARE(again.dpi()->value(), 150);
    QCOMPARE(again.preset()->currentData().toString(), QString("double-column"));
    QVERIFY(again.fileName()->text().startsWith(dir.path()));
  }

  // LaTeX: the best value of each column in bold, ties all bold, lower or higher as the column
  // says, the full-precision baseline left out (its PPL is the lowest).
  void latexBoldsTheBestOfEachColumn() {
    ComparisonTableView v;
    v.setRecords({sample::fpRecord(4e6, 90), sample::quantRecord("rtn", 3, 1e6, 120, 3.2),
                  sample::quantRecord("gptq", 3, 1e6, 100, 3.2), sample::quantRecord("gptq", 4, 1.3e6, 95, 4.2)});
    const TextTable t = v.dataTable();
    const int ppl = int(t.headers.indexOf("PPL")), bpw = int(t.headers.indexOf("bits/weight (all)"));
    const int top1 = int(t.headers.indexOf("top-1 (%)")), bits = int(t.headers.indexOf("bits"));
    QVERIFY(ppl > 0 && bpw > 0 && top1 > 0);
    QCOMPARE(bestRows(t, ppl), std::vector<int>{3});      // 95 (gptq w4), not fp's 90
    QCOMPARE(bestRows(t, bpw), (std::vector<int>{1, 2}));  // 3.2 twice: both bold
    QCOMPARE(bestRows(t, top1), std::vector<int>{3});     // higher is better: 92 %
    QVERIFY(bestRows(t, bits).empty());                     // no direction
    const QString tex = toLatex(t, "W3 and W4 on austen-tiny", "tab:w3w4");
    QVERIFY2(tex.contains("\\caption{W3 and W4 on austen-tiny}\n\\label{tab:w3w4}\n"), qPrintable(tex));
    QVERIFY2(tex.contains("gptq & 4 & 128 & int & \\textbf{95.00} & \\textbf{+5.00}"), qPrintable(tex));
    QVERIFY(tex.contains("rtn & 3 & 128 & int & 120.00 & +30.00 & \\textbf{1.000} & \\textbf{3.20}"));
    QCOMPARE(tex.count("\\textbf{90.00}"), 0);
  }

  void tableFromAnyModel() {
    QStandardItemModel m(2, 2);
    m.setHorizontalHeaderLabels({"a", "b"});
    m.setItem(0, 0, new QStandardItem("x"));
    m.setItem(0, 1, new QStandardItem("1"));
    m.setItem(1, 0, new QStandardItem("y"));
    m.setItem(1, 1, new QStandardItem("2"));
    QCOMPARE(toCsv(tableFromModel(m)), QString("a,b\nx,1\ny,2\n"));
  }
};

QTEST_MAIN(TestExport)
#include "test_export.moc"
