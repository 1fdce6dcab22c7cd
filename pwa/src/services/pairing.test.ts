import { describe, expect, it } from 'vitest'
import { ApiError, HubUnreachableError } from './api.ts'
import { deviceName, pairingErrorMessage, splitHashParam } from './pairing.ts'

describe('the page fragment\'s one-time codes', () => {
  it('takes one parameter out and keeps the others for later', () => {
    expect(splitHashParam('#pair=K7QD-M2XH&setup=abc_1', 'pair')).toEqual({ value: 'K7QD-M2XH', rest: '#setup=abc_1' })
    expect(splitHashParam('#setup=abc_1', 'setup')).toEqual({ value: 'abc_1', rest: '' })
    expect(splitHashParam('#pair=K7QD%20M2XH', 'pair')).toEqual({ value: 'K7QD M2XH', rest: '' })
    expect(splitHashParam('#setup=x', 'pair')).toEqual({ value: undefined, rest: '#setup=x' })
    expect(splitHashParam('', 'pair')).toEqual({ value: undefined, rest: '' })
    // a parameter whose name only starts like it is another one
    expect(splitHashParam('#pairing=1&pair=AB', 'pair')).toEqual({ value: 'AB', rest: '#pairing=1' })
  })
})

describe('deviceName', () => {
  it('names the browser and the system as a person would', () => {
    expect(deviceName('Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36')).toBe('Chrome on Android')
    expect(deviceName('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 5)).toBe('Safari on iPad')
    expect(deviceName('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 0)).toBe('Safari on macOS')
    expect(deviceName('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox on Linux')
    expect(deviceName('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0')).toBe('Edge on Windows')
    expect(deviceName('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36')).toBe('Chrome on Linux')
    expect(deviceName('curl/8.0')).toBe('Browser')
  })
})

describe('pairingErrorMessage', () => {
  it('says what to do for each answer of the hub', () => {
    expect(pairingErrorMessage(new HubUnreachableError('x'))).toMatch(/cannot be reached/)
    expect(pairingErrorMessage(new ApiError(400, 'code must be…'))).toMatch(/eight letters and digits/)
    expect(pairingErrorMessage(new ApiError(404, 'unknown'))).toMatch(/unknown or was used already/)
    expect(pairingErrorMessage(new ApiError(410, 'expired'))).toMatch(/expired/)
    expect(pairingErrorMessage(new ApiError(429, 'slow down'))).toMatch(/Wait a minute/)
    expect(pairingErrorMessage(new ApiError(409, 'this hub is not an admin hub'))).toBe('The hub refused the code: this hub is not an admin hub')
  })
})
