package io.github.standalonecinder.cmd;

public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(0);
  }
}
