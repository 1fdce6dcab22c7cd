// A QR code drawn in the terminal with Unicode half blocks (two modules per character cell), so a
// tablet's camera can open a URL the hub prints at start (the lab CA's download page, for --lan).
import qrcode from 'qrcode-generator'

/** The lines of a QR code of `text`, for the usual terminal of light text on a dark background. */
export function terminalQr (text: string): string[] {
  const code = qrcode(0, 'M')
  code.addData(text, 'Byte')
  code.make()
  const size = code.getModuleCount()
  const quiet = 4 // the quiet zone the standard asks for: the terminal around it is dark
  // Scanners want dark modules on a light ground: a module is "on" when it is light.
  const light = (row: number, col: number): boolean =>
    row < 0 || col < 0 || row >= size || col >= size || !code.isDark(row, col)
  const lines: string[] = []
  for (let row = -quiet; row < size + quiet; row += 2) {
    let line = ''
    for (let col = -quiet; col < size + quiet; col++) {
      const top = light(row, col)
      const bottom = light(row + 1, col)
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' '
    }
    lines.push(line)
  }
  return lines
}
