package io.github.standalonecinder.e2e.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** A PNG from the JDK alone (headless): latency histogram on the left, claims Bound over time on the right. */
final class Chart {
  private static final int W = 1200;
  private static final int H = 500;
  private static final int PAD = 60;

  static void write(Path file, List<Double> latenciesMs, List<Double> boundAtSeconds, List<Double> pvAtSeconds,
      double idealSeconds,
      double perClaimMs, int workers, int claims) throws IOException {
    System.setProperty("java.awt.headless", "true");
    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    int half = W / 2;
    histogram(g, 0, latenciesMs, claims);
    timeline(g, half, boundAtSeconds, pvAtSeconds, idealSeconds, perClaimMs, workers, claims);
    g.dispose();
    ImageIO.write(img, "png", file.toFile());
  }

  private static void histogram(Graphics2D g, int x0, List<Double> lat, int claims) {
    int left = x0 + PAD;
    int right = x0 + W / 2 - 20;
    int top = 50;
    int bottom = H - PAD;
    double max = lat.stream().mapToDouble(Double::doubleValue).max().orElse(1) / 1000.0;
    double maxX = niceCeil(max);
    int bins = 40;
    int[] counts = new int[bins];
    for (double l : lat) {
      counts[Math.min(bins - 1, (int) (l / 1000.0 / maxX * bins))]++;
    }
    int maxCount = 1;
    for (int c : counts) {
      maxCount = Math.max(maxCount, c);
    }
    double maxY = niceCeil(maxCount);
    title(g, left, "Claim create -> Bound latency (" + claims + " claims)");
    axes(g, left, right, top, bottom, maxX, "latency (s)", maxY, "claims");
    g.setColor(new Color(70, 120, 200));
    double bw = (double) (right - left) / bins;
    for (int i = 0; i < bins; i++) {
      int h = (int) Math.round(counts[i] / maxY * (bottom - top));
      g.fillRect((int) (left + i * bw) + 1, bottom - h, (int) Math.max(1, bw - 2), h);
    }
  }

  private static void timeline(Graphics2D g, int x0, List<Double> boundAt, List<Double> pvAt, double ideal,
      double perClaimMs, int workers, int claims) {
    int left = x0 + PAD;
    int right = x0 + W / 2 - 20;
    int top = 50;
    int bottom = H - PAD;
    double last = boundAt.isEmpty() ? 1 : boundAt.get(boundAt.size() - 1);
    double maxX = niceCeil(Math.max(last, ideal));
    double maxY = niceCeil(claims);
    title(g, left, "Claims over time (" + workers + " workers)");
    axes(g, left, right, top, bottom, maxX, "seconds since the burst", maxY, "claims Bound");
    // Ideal: W claims every perClaim seconds (Cinder-bound, no overhead).
    g.setColor(new Color(150, 150, 150));
    g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
    int px = left;
    int py = bottom;
    double step = perClaimMs / 1000.0;
    for (int done = 0; done < claims; ) {
      double t = (done / workers + 1) * step;
      done = Math.min(claims, done + workers);
      int nx = left + (int) (t / maxX * (right - left));
      int ny = bottom - (int) (done / maxY * (bottom - top));
      g.drawLine(px, py, nx, py);
      g.drawLine(nx, py, nx, ny);
      px = nx;
      py = ny;
    }
    curve(g, pvAt, new Color(40, 150, 70), left, right, top, bottom, maxX, maxY);
    curve(g, boundAt, new Color(200, 60, 50), left, right, top, bottom, maxX, maxY);
    g.setStroke(new BasicStroke(1f));
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    g.setColor(new Color(40, 150, 70));
    g.drawString("PV created: " + String.format("%.1f s", pvAt.isEmpty() ? 0 : pvAt.get(pvAt.size() - 1)),
        left + 10, top + 20);
    g.setColor(new Color(200, 60, 50));
    g.drawString("Bound (emulated binder): " + String.format("%.1f s", last), left + 10, top + 38);
    g.setColor(new Color(120, 120, 120));
    g.drawString("ideal (Cinder-bound): " + String.format("%.1f s", ideal), left + 10, top + 56);
  }

  private static void curve(Graphics2D g, List<Double> times, Color color, int left, int right, int top,
      int bottom, double maxX, double maxY) {
    g.setColor(color);
    g.setStroke(new BasicStroke(2.5f));
    int px = left;
    int py = bottom;
    for (int i = 0; i < times.size(); i++) {
      int nx = left + (int) (Math.min(times.get(i), maxX) / maxX * (right - left));
      int ny = bottom - (int) ((i + 1) / maxY * (bottom - top));
      g.drawLine(px, py, nx, py);
      g.drawLine(nx, py, nx, ny);
      px = nx;
      py = ny;
    }
  }

  private static void title(Graphics2D g, int left, String text) {
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(text, left, 30);
  }

  private static void axes(Graphics2D g, int left, int right, int top, int bottom, double maxX, String xLabel,
      double maxY, String yLabel) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setStroke(new BasicStroke(1f));
    for (int i = 0; i <= 5; i++) {
      int y = bottom - i * (bottom - top) / 5;
      int x = left + i * (right - left) / 5;
      g.setColor(new Color(230, 230, 230));
      g.drawLine(left, y, right, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(label(maxY * i / 5), left - 45, y + 4);
      g.drawString(label(maxX * i / 5), x - 10, bottom + 18);
    }
    g.setColor(Color.BLACK);
    g.drawLine(left, bottom, right, bottom);
    g.drawLine(left, top, left, bottom);
    g.drawString(xLabel, (left + right) / 2 - 40, bottom + 40);
    g.drawString(yLabel, left - 50, top - 8);
  }

  private static String label(double v) {
    return v == Math.rint(v) ? String.format("%.0f", v) : String.format("%.1f", v);
  }

  private static double niceCeil(double v) {
    if (v <= 0) {
      return 1;
    }
    double mag = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
      if (m * mag >= v) {
        return m * mag;
      }
    }
    return 10 * mag;
  }
}
